// Package labels implements label sets and label selectors, the way maestro
// objects find each other: a ReplicaSet owns the pods its selector matches,
// a Service routes to them.
//
// The model and the selector string syntax are those of Kubernetes:
//
//	selector    ::= "" | requirement ("," requirement)*
//	requirement ::= key ("=" | "==" | "!=") value?
//	              | key ("in" | "notin") "(" value? ("," value?)* ")"
//	              | key            (the key exists)
//	              | "!" key        (the key does not exist)
//
// Whitespace may surround any token. A requirement list is an AND; "in"
// gives the OR. "!=" and "notin" also match objects that do not have the key
// at all, as in Kubernetes: "tier!=db" selects everything that is not known
// to be a database.
//
// Keys are an optional DNS-1123 subdomain prefix and "/" followed by a name
// of at most 63 characters; values are at most 63 characters and may be
// empty. Both use [A-Za-z0-9] with '-', '_' and '.' allowed inside
// (ValidateKey, ValidateValue).
//
// Selectors are immutable and canonical: requirements are kept sorted by
// key (then operator and values), duplicates are dropped, "==" is stored as
// "=", and the values of "in"/"notin" are sorted and de-duplicated. So
// String returns the same text for selectors that differ only in spelling,
// and Parse(sel.String()) gives back an identical selector.
package labels
