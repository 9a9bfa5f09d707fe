;; Test guest `noexports`: a valid component that exports nothing, so it has none of the
;; `wasmgr:mgr/module` functions the host calls. The host must refuse it at load, naming what
;; is missing, before any of its code could run.
(component)
