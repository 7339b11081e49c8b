;; A precept plugin written by hand as a core module with several linear
;; memories: twenty empty memories, more than a plugin may have.
;; `tests/build.rs` turns it into a component of the `precept:plugin` world.
(module
  (memory (export "memory") 0)
  (memory $m2 0)
  (memory $m3 0)
  (memory $m4 0)
  (memory $m5 0)
  (memory $m6 0)
  (memory $m7 0)
  (memory $m8 0)
  (memory $m9 0)
  (memory $m10 0)
  (memory $m11 0)
  (memory $m12 0)
  (memory $m13 0)
  (memory $m14 0)
  (memory $m15 0)
  (memory $m16 0)
  (memory $m17 0)
  (memory $m18 0)
  (memory $m19 0)
  (memory $m20 0)
  (global $next (mut i32) (i32.const 1024))

  ;; A bump allocator: enough for the canonical ABI to hand over arguments.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get 3)))
    (local.get $at))

  ;; Address 0 holds zeros: `ok` for every result.
  (func (export "setup") (result i32) (i32.const 0))
  (func (export "on-event") (param i32 i32 i32 i32 i32 i64) (result i32) (i32.const 0))
  (func (export "service-setup") (param i32 i32) (result i32) (i32.const 0))
  (func (export "service-start") (param i32 i32) (result i32) (i32.const 0))
  (func (export "service-stop") (param i32 i32) (result i32) (i32.const 0))
  (func (export "run-command") (param i32 i32 i32 i32) (result i32) (i32.const 0)))
