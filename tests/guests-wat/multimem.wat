;; Test guest `multimem`: a hostile component whose memory is spread over several linear
;; memories, for the per-module memory limit.
;;
;; Written by hand in the component text format (tests/build.rs turns it into
;; target/wasm/multimem.wasm), because no guest toolchain makes such a component on purpose.
;; It implements the `wasmgr:mgr/module@0.1.0` export of the world in wit/ and imports nothing.
;;
;; Four core instances:
;;   - $mem1, $mem2, $mem3: three instances of the core module $Mem, each with a linear memory
;;     of its own (initially empty) and an export `grow` that grows it;
;;   - $main: the core module $Main, which implements the canonical ABI (its own memory, a
;;     `cabi_realloc`) and the exports, and imports the three `grow`s.
;;
;; `multimem grow` grows each of the three extra memories by 40 MiB (640 pages) in turn. Each
;; one stays under the 64 MiB limit; together they hold 120 MiB. A host that counts the limit
;; per module refuses at the second grow; one that counts it per memory lets all three pass.
;; The reply is {retval 0, stdout "grown"} if all three grows succeeded, else
;; {retval -12 (ENOMEM), stdout "refused"}. A second `multimem grow` on the same instance asks
;; each memory for 80 MiB, which any host refuses.
(component
  ;; ---------------------------------------------------------------------------------------
  ;; The extra memories.
  ;; ---------------------------------------------------------------------------------------

  ;; One linear memory and a way to grow it: `grow(pages)` is `memory.grow`, the old size in
  ;; pages, or -1 if the growth was refused.
  (core module $Mem
    (memory 0)
    (func (export "grow") (param $pages i32) (result i32)
      (memory.grow (local.get $pages))))

  (core instance $mem1 (instantiate $Mem))
  (core instance $mem2 (instantiate $Mem))
  (core instance $mem3 (instantiate $Mem))

  ;; ---------------------------------------------------------------------------------------
  ;; The main module: the exports, in the canonical ABI.
  ;; ---------------------------------------------------------------------------------------

  (core module $Main
    (import "mem1" "grow" (func $grow1 (param i32) (result i32)))
    (import "mem2" "grow" (func $grow2 (param i32) (result i32)))
    (import "mem3" "grow" (func $grow3 (param i32) (result i32)))

    ;; The memory the host lifts results from and lowers arguments into.
    ;;
    ;; Layout (one page to start with):
    ;;   0x0010  module-info     (52 bytes), the result of `describe`
    ;;   0x0050  command-decl    (28 bytes), the one element of module-info.commands
    ;;   0x0070  command-result  (20 bytes), the result of `handle-command`
    ;;   0x0100  the strings below
    ;;   0x1000  the heap of `cabi_realloc`: the arguments the host passes (strings)
    ;;
    ;; Records are laid out with natural alignment: a string or a list is (ptr: i32, len: i32),
    ;; 8 bytes aligned to 4; a bool or an enum of under 256 cases is one byte; the size of a
    ;; record is rounded up to its alignment. An empty string or list has length 0 and any
    ;; pointer aligned for its element type: 0 here.
    (memory (export "memory") 1)

    (data (i32.const 0x100) "multimem")      ;; 8 bytes
    (data (i32.const 0x108) "0.1.0")         ;; 5 bytes
    (data (i32.const 0x110) "multimem grow") ;; 13 bytes
    (data (i32.const 0x120) "grown")         ;; 5 bytes
    (data (i32.const 0x128) "refused")       ;; 7 bytes

    (global $heap (mut i32) (i32.const 0x1000))

    ;; `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr`: the host calls it to place
    ;; the string arguments of `handle-command` and `notify`. A bump allocator: fresh
    ;; allocations only (the host never reallocates), freed all at once when the call that
    ;; received them ends. Grows this memory when the heap is full.
    (func (export "cabi_realloc")
      (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32)
      (result i32)
      (local $ptr i32) (local $end i32)
      (if (local.get $old_size) (then unreachable))
      ;; ptr = heap rounded up to align (a power of two)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
      (if (i32.lt_u (local.get $end) (local.get $ptr)) (then unreachable))
      ;; grow by the missing pages if end is past the memory's size
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

    ;; `describe: func() -> module-info`. module-info flattens to more than one value, so the
    ;; core function returns a pointer to it.
    ;;
    ;; module-info at 0x10:          command-decl at 0x50:
    ;;   +0  name          string      +0  prefix  string
    ;;   +8  version       string      +8  args    list<command-arg>
    ;;   +16 commands      list        +16 desc    string
    ;;   +24 options       list        +24 perm    enum (u8): r = 0, w = 1, rw = 2
    ;;   +32 notify        list        +25 poll    bool (u8)
    ;;   +40 can-run       bool (u8)   size 28
    ;;   +44 error-string  string
    ;;   size 52
    (func (export "describe") (result i32)
      ;; the command: {prefix "multimem grow", args [], desc "", perm r, poll false}
      (i32.store offset=0 (i32.const 0x50) (i32.const 0x110)) ;; prefix.ptr
      (i32.store offset=4 (i32.const 0x50) (i32.const 13))    ;; prefix.len
      (i32.store offset=8 (i32.const 0x50) (i32.const 0))     ;; args.ptr
      (i32.store offset=12 (i32.const 0x50) (i32.const 0))    ;; args.len
      (i32.store offset=16 (i32.const 0x50) (i32.const 0))    ;; desc.ptr
      (i32.store offset=20 (i32.const 0x50) (i32.const 0))    ;; desc.len
      (i32.store8 offset=24 (i32.const 0x50) (i32.const 0))   ;; perm = r
      (i32.store8 offset=25 (i32.const 0x50) (i32.const 0))   ;; poll = false
      ;; the module
      (i32.store offset=0 (i32.const 0x10) (i32.const 0x100)) ;; name.ptr ("multimem")
      (i32.store offset=4 (i32.const 0x10) (i32.const 8))     ;; name.len
      (i32.store offset=8 (i32.const 0x10) (i32.const 0x108)) ;; version.ptr ("0.1.0")
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

    ;; `notify: func(kind: notify-kind, id: string)`: (kind, id.ptr, id.len). Never called
    ;; (describe asks for no notify kind); frees the id.
    (func (export "notify") (param $kind i32) (param $id_ptr i32) (param $id_len i32)
      (global.set $heap (i32.const 0x1000)))

    ;; `handle-command: func(cmd: string, inbuf: string) -> command-result`, whatever the
    ;; command: (cmd.ptr, cmd.len, inbuf.ptr, inbuf.len) -> pointer to the command-result.
    ;;
    ;; command-result at 0x70:
    ;;   +0  retval  s32
    ;;   +4  stdout  string
    ;;   +12 stderr  string
    ;;   size 20
    (func (export "handle-command")
      (param $cmd_ptr i32) (param $cmd_len i32) (param $inbuf_ptr i32) (param $inbuf_len i32)
      (result i32)
      (local $refused i32)
      ;; 40 MiB = 640 pages of 64 KiB, for each memory in turn.
      (local.set $refused
        (i32.eq (call $grow1 (i32.const 640)) (i32.const -1)))
      (local.set $refused
        (i32.or (local.get $refused)
          (i32.eq (call $grow2 (i32.const 640)) (i32.const -1))))
      (local.set $refused
        (i32.or (local.get $refused)
          (i32.eq (call $grow3 (i32.const 640)) (i32.const -1))))
      ;; the arguments are not read: free them
      (global.set $heap (i32.const 0x1000))
      (if (local.get $refused)
        (then
          (i32.store offset=0 (i32.const 0x70) (i32.const -12))  ;; retval = -ENOMEM
          (i32.store offset=4 (i32.const 0x70) (i32.const 0x128)) ;; stdout.ptr ("refused")
          (i32.store offset=8 (i32.const 0x70) (i32.const 7)))    ;; stdout.len
        (else
          (i32.store offset=0 (i32.const 0x70) (i32.const 0))     ;; retval = 0
          (i32.store offset=4 (i32.const 0x70) (i32.const 0x120)) ;; stdout.ptr ("grown")
          (i32.store offset=8 (i32.const 0x70) (i32.const 5))))   ;; stdout.len
      (i32.store offset=12 (i32.const 0x70) (i32.const 0))        ;; stderr.ptr
      (i32.store offset=16 (i32.const 0x70) (i32.const 0))        ;; stderr.len
      (i32.const 0x70))

    ;; `shutdown: func()`
    (func (export "shutdown")))

  (core instance $main (instantiate $Main
    (with "mem1" (instance $mem1))
    (with "mem2" (instance $mem2))
    (with "mem3" (instance $mem3))))

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
