;; Test guest `tablebomb`: a hostile component that grows a table without end, for the limit on
;; table elements (a table grows host memory, not the module's linear memory).
;;
;; Written by hand in the component text format (tests/build.rs turns it into
;; target/wasm/tablebomb.wasm), because no guest toolchain grows a table on request. It
;; implements the `wasmgr:mgr/module@0.1.0` export of the world in wit/ and imports nothing.
;;
;; `tablebomb grow` asks for a billion elements in one `table.grow` (8 GB of host memory at a
;; pointer each), then grows by 10,000 elements at a time until a growth is refused, then
;; traps (`unreachable`), as a guest whose allocator cannot go on would. It never returns.
(component
  (core module $Main
    ;; The table the command grows. Empty to start with, and without a maximum of its own:
    ;; only the host bounds it.
    (table $bomb 0 funcref)

    ;; The memory the host lifts results from and lowers arguments into.
    ;;
    ;; Layout (one page to start with):
    ;;   0x0010  module-info     (52 bytes), the result of `describe`
    ;;   0x0050  command-decl    (28 bytes), the one element of module-info.commands
    ;;   0x0100  the strings below
    ;;   0x1000  the heap of `cabi_realloc`: the arguments the host passes (strings)
    ;;
    ;; See multimem.wat for how records are laid out.
    (memory (export "memory") 1)

    (data (i32.const 0x100) "tablebomb")      ;; 9 bytes
    (data (i32.const 0x110) "0.1.0")          ;; 5 bytes
    (data (i32.const 0x120) "tablebomb grow") ;; 14 bytes

    (global $heap (mut i32) (i32.const 0x1000))

    ;; `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr`: a bump allocator, as in
    ;; multimem.wat.
    (func (export "cabi_realloc")
      (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32)
      (result i32)
      (local $ptr i32) (local $end i32)
      (if (local.get $old_size) (then unreachable))
      (local.set $ptr
        (i32.and
          (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
      (if (i32.lt_u (local.get $end) (local.get $ptr)) (then unreachable))
      (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.sub
                    (i32.shr_u (i32.add (local.get $end) (i32.const 0xffff)) (i32.const 16))
                    (memory.size)))
                (i32.const -1))
            (then unreachable))))
      (global.set $heap (local.get $end))
      (local.get $ptr))

    ;; `describe: func() -> module-info`: module `tablebomb` 0.1.0 with the one command
    ;; `tablebomb grow` (perm r, no arguments).
    (func (export "describe") (result i32)
      (i32.store offset=0 (i32.const 0x50) (i32.const 0x120)) ;; prefix.ptr
      (i32.store offset=4 (i32.const 0x50) (i32.const 14))    ;; prefix.len
      (i32.store offset=8 (i32.const 0x50) (i32.const 0))     ;; args.ptr
      (i32.store offset=12 (i32.const 0x50) (i32.const 0))    ;; args.len
      (i32.store offset=16 (i32.const 0x50) (i32.const 0))    ;; desc.ptr
      (i32.store offset=20 (i32.const 0x50) (i32.const 0))    ;; desc.len
      (i32.store8 offset=24 (i32.const 0x50) (i32.const 0))   ;; perm = r
      (i32.store8 offset=25 (i32.const 0x50) (i32.const 0))   ;; poll = false
      (i32.store offset=0 (i32.const 0x10) (i32.const 0x100)) ;; name.ptr ("tablebomb")
      (i32.store offset=4 (i32.const 0x10) (i32.const 9))     ;; name.len
      (i32.store offset=8 (i32.const 0x10) (i32.const 0x110)) ;; version.ptr ("0.1.0")
      (i32.store offset=12 (i32.const 0x10) (i32.const 5))    ;; version.len
      (i32.store offset=16 (i32.const 0x10) (i32.const 0x50)) ;; commands.ptr
      (i32.store offset=20 (i32.const 0x10) (i32.const 1))    ;; commands.len
      (i32.store offset=24 (i32.const 0x10) (i32.const 0))    ;; options.ptr
      (i32.store offset=28 (i32.const 0x10) (i32.const 0))    ;; options.len
      (i32.store offset=32 (i32.const 0x10) (i32.const 0))    ;; notify.ptr
      (i32.store offset=36 (i32.const 0x10) (i32.const 0))    ;; notify.len
      (i32.store8 offset=40 (i32.const 0x10) (i32.const 1))   ;; can-run = true
      (i32.store offset=44 (i32.const 0x10) (i32.const 0))    ;; error-string.ptr
      (i32.store offset=48 (i32.const 0x10) (i32.const 0))    ;; error-string.len
      (i32.const 0x10))

    ;; `notify: func(kind: notify-kind, id: string)`: never called; frees the id.
    (func (export "notify") (param $kind i32) (param $id_ptr i32) (param $id_len i32)
      (global.set $heap (i32.const 0x1000)))

    ;; `handle-command: func(cmd: string, inbuf: string) -> command-result`, whatever the
    ;; command: the bomb. It never returns.
    (func (export "handle-command")
      (param $cmd_ptr i32) (param $cmd_len i32) (param $inbuf_ptr i32) (param $inbuf_len i32)
      (result i32)
      ;; A billion elements at once; the result (-1 if refused) is dropped either way.
      (drop (table.grow $bomb (ref.null func) (i32.const 1000000000)))
      ;; Then 10,000 at a time, for as long as the host allows.
      (loop $more
        (br_if $more
          (i32.ne
            (table.grow $bomb (ref.null func) (i32.const 10000))
            (i32.const -1))))
      unreachable)

    ;; `shutdown: func()`
    (func (export "shutdown")))

  (core instance $main (instantiate $Main))

  ;; ---------------------------------------------------------------------------------------
  ;; The types of wit/module.wit (and `option-value` of wit/types.wit), by structure and
  ;; names. Records, variants and enums used by an exported function must be exported by
  ;; name too, before it, so the export instance below exports them all, in this order.
  ;; ---------------------------------------------------------------------------------------

  (type $option-value (variant
    (case "str" string)
    (case "int" s64)
    (case "float" f64)
    (case "bool" bool)))
  (type $arg-type (enum
    "ceph-string" "ceph-int" "ceph-float" "ceph-bool" "ceph-choices" "ceph-poolname"
    "ceph-objectname" "ceph-osd-name" "ceph-pgid"))
  (type $arg-range (variant
    (case "int" (tuple (option s64) (option s64)))
    (case "float" (tuple (option f64) (option f64)))))
  (type $command-arg (record
    (field "name" string)
    (field "type" $arg-type)
    (field "required" bool)
    (field "repeated" bool)
    (field "range" (option $arg-range))
    (field "choices" (list string))
    (field "goodchars" (option string))))
  (type $perm (enum "r" "w" "rw"))
  (type $command-decl (record
    (field "prefix" string)
    (field "args" (list $command-arg))
    (field "desc" string)
    (field "perm" $perm)
    (field "poll" bool)))
  (type $option-type (enum
    "str" "int" "uint" "float" "bool" "secs" "size" "addr" "uuid"))
  (type $option-decl (record
    (field "name" string)
    (field "type" $option-type)
    (field "default" (option $option-value))
    (field "min" (option $option-value))
    (field "max" (option $option-value))
    (field "enum-allowed" (list string))
    (field "desc" string)
    (field "long-desc" string)
    (field "runtime" bool)))
  (type $notify-kind (enum
    "mon-map" "osd-map" "fs-map" "service-map" "mgr-map" "health" "pg-summary" "clog"
    "command" "perf-schema-update"))
  (type $module-info (record
    (field "name" string)
    (field "version" string)
    (field "commands" (list $command-decl))
    (field "options" (list $option-decl))
    (field "notify" (list $notify-kind))
    (field "can-run" bool)
    (field "error-string" string)))
  (type $command-result (record
    (field "retval" s32)
    (field "stdout" string)
    (field "stderr" string)))

  ;; ---------------------------------------------------------------------------------------
  ;; The component functions: the core exports of $main, lifted. Results are read from
  ;; $main's memory; string arguments are written into it with its cabi_realloc.
  ;; ---------------------------------------------------------------------------------------

  (func $describe (result $module-info)
    (canon lift (core func $main "describe")
      (memory (core memory $main "memory"))))
  (func $notify (param "kind" $notify-kind) (param "id" string)
    (canon lift (core func $main "notify")
      (memory (core memory $main "memory")) (realloc (core func $main "cabi_realloc")) string-encoding=utf8))
  (func $handle-command (param "cmd" string) (param "inbuf" string) (result $command-result)
    (canon lift (core func $main "handle-command")
      (memory (core memory $main "memory")) (realloc (core func $main "cabi_realloc")) string-encoding=utf8))
  (func $shutdown
    (canon lift (core func $main "shutdown")))

  ;; The export: the instance `wasmgr:mgr/module@0.1.0`.
  (instance $module
    (export "option-value" (type $option-value))
    (export "arg-type" (type $arg-type))
    (export "arg-range" (type $arg-range))
    (export "command-arg" (type $command-arg))
    (export "perm" (type $perm))
    (export "command-decl" (type $command-decl))
    (export "option-type" (type $option-type))
    (export "option-decl" (type $option-decl))
    (export "notify-kind" (type $notify-kind))
    (export "module-info" (type $module-info))
    (export "command-result" (type $command-result))
    (export "describe" (func $describe))
    (export "notify" (func $notify))
    (export "handle-command" (func $handle-command))
    (export "shutdown" (func $shutdown)))
  (export "wasmgr:mgr/module@0.1.0" (instance $module))
)
