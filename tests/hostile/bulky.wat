;; A precept plugin written by hand as a core module that takes long to
;; compile: `tests/build.rs` replaces the `@filler N` line below with N small
;; functions before turning it into a component of the `precept:plugin`
;; world. Its `setup` succeeds and it subscribes to nothing: it is for what
;; a person sees while a large plugin compiles.
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))

  ;; A bump allocator: enough for the canonical ABI to hand over arguments.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get 3)))
    (local.get $at))

  ;; `ok`: a zero discriminant, at address 0.
  (func (export "setup") (result i32) (i32.const 0))

  (func (export "on-event") (param i32 i32 i32 i32 i32 i64) (result i32) (unreachable))
  (func (export "service-setup") (param i32 i32) (result i32) (unreachable))
  (func (export "service-start") (param i32 i32) (result i32) (unreachable))
  (func (export "service-stop") (param i32 i32) (result i32) (unreachable))
  (func (export "run-command") (param i32 i32 i32 i32) (result i32) (unreachable))

  ;; @filler 20000
)
