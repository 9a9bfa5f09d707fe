;; Test guest `wrongworld`: a valid component built for another world: a WASI command
;; (`wasi:cli/run`) that imports an HTTP client (`wasi:http/outgoing-handler`), an interface
;; the host does not provide. The host must refuse it at load, naming the import, before any
;; of its code could run.
(component
  (import "wasi:http/outgoing-handler@0.2.0" (instance $http
    (export "handle" (func))))

  (core module $Main
    ;; `run: func() -> result`: ok.
    (func (export "run") (result i32)
      (i32.const 0)))
  (core instance $main (instantiate $Main))

  (func $run (result (result))
    (canon lift (core func $main "run")))
  (instance $cli (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $cli)))
