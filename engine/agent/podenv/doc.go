// Package podenv builds a container's environment the way kubelet does:
//
//	extra (service variables, from the caller)  lowest precedence
//	envFrom, in order, each with its prefix     keys that are not valid names are skipped
//	env, in order                               $(VAR) expands earlier variables
//
// A later definition of a name replaces an earlier one in place, so the
// result has each name once, in the order names first appeared.
package podenv
