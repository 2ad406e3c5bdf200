// Package registry stores API objects in a store.Store: it maps kinds to
// keys, encodes objects, and applies the write rules every client relies on,
// independent of HTTP:
//
//	create:  name generation -> defaults -> kind rules -> validation -> admission -> store.Create
//	update:  read current -> resourceVersion check -> keep status (or keep all
//	         but status for /status) -> defaults -> validation -> admission ->
//	         generation bump on desired-state change -> store.Update (CAS)
//	delete:  finalizers or graceful hold -> deletionTimestamp; else store.Delete (CAS)
//	watch:   one cache per kind (list once, then store.Watch; decode and
//	         encode each change once) -> snapshot (from revision 0) or ring
//	         -> selector transitions (ADDED/MODIFIED/DELETED)
//
// The API server's HTTP layer sits on top; the scheduler, controllers and
// agents reach it only through the HTTP API and engine/client.
package registry
