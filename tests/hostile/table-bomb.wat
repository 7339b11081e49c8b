;; A precept plugin written by hand as a core module: its `setup` grows a
;; table without end. `tests/build.rs` turns it into a component of the
;; `precept:plugin` world; the other exports are never reached.
(module
  (memory (export "memory") 1)
  (table $bomb 1 funcref)
  (global $next (mut i32) (i32.const 1024))

  ;; A bump allocator: enough for the canonical ABI to hand over arguments.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get 3)))
    (local.get $at))

  (func (export "setup") (result i32)
    (loop $grow
      (drop (table.grow $bomb (ref.null func) (i32.const 65536)))
      (br $grow))
    (unreachable))

  (func (export "on-event") (param i32 i32 i32 i32 i32 i64) (result i32) (unreachable))
  (func (export "service-setup") (param i32 i32) (result i32) (unreachable))
  (func (export "service-start") (param i32 i32) (result i32) (unreachable))
  (func (export "service-stop") (param i32 i32) (result i32) (unreachable))
  (func (export "run-command") (param i32 i32 i32 i32) (result i32) (unreachable)))
