;; A precept plugin written by hand as a core module with several linear
;; memories: its three memories of 16 MiB are each under the limit, together they are not.
;; `tests/build.rs` turns it into a component of the `precept:plugin` world.
(module
  (memory (export "memory") 256)
  (memory $m2 256)
  (memory $m3 256)
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
