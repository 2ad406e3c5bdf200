// Package apitest holds one valid, realistic object of every API kind, for
// tests and fuzz seed corpora outside package api. Each sample sets many
// optional fields, so a fuzzer mutating its JSON reaches deep into
// decoding and validation. A kind added to api.Kinds without a sample
// fails this package's tests.
package apitest
