package store

// SetPageSize sets how many keys one List page asks etcd for, so that tests
// can exercise paging with few keys.
func SetPageSize(e *Etcd, n int64) { e.pageSize = n }

// SetAddrPicker replaces how StartEmbedded picks free ports, and returns a
// function restoring the original.
func SetAddrPicker(pick func() (string, error)) (restore func()) {
	old := pickLoopbackAddr
	pickLoopbackAddr = pick
	return func() { pickLoopbackAddr = old }
}

// FreeLoopbackAddr is the default port picker.
var FreeLoopbackAddr = freeLoopbackAddr
