// Package allocator hands out Services' cluster IPs and node ports without
// duplicates, also across several API servers sharing one etcd, and frees
// them when a Service is deleted.
//
// Every allocated value is a claim: a store key created with store.Create,
// which fails when the key exists, so of two servers racing for a value
// exactly one wins.
//
//	/allocations/serviceips/<ip>    {"namespace","name","uid","time"}
//	/allocations/nodeports/<port>   {"namespace","name","uid","time"}
//
// No kind's plural is "allocations", so claims never mix with object keys
// (/<plural>/...). Data flow:
//
//	registry create/update (after validation)
//	  -> Admit: given values checked (in range, not claimed by another
//	     service: 422 naming the field) and claimed; missing values picked by
//	     scanning from a random offset past the claims listed from the
//	     store, claimed with store.Create (a lost race tries the next one);
//	     a range without a free value is a 422 saying it is full
//	  -> registry stores the Service
//	registry delete completed -> Released: the Service's claims are deleted
//	Run, every 30 s on every server -> Repair: claims no Service uses and
//	  older than the grace period are deleted (leaks of failed writes and
//	  of node ports an update dropped); Services whose values have no
//	  claim get one
//
// Dry-run writes claim nothing: given values are checked against the
// claims, missing ones stay empty. Values a client omitted on update are
// copied from the stored Service by the registry (prepareForUpdate) before
// validation, so admission only sees what is really new.
package allocator
