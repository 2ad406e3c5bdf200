// Package volumes prepares a pod's volumes on its node and says what each
// container mounts.
//
// Everything lives under the agent's pods directory, one tree per pod:
//
//	<root>/<podUID>/volumes/
//	  emptydir/<name>/           0777; a tmpfs on it for medium: Memory
//	  configmap/<name>/          projected keys (see below)
//	  secret/<name>/             projected keys, on a tmpfs (never on disk
//	                             when the agent can mount one)
//
// hostPath volumes are bind mounts of the node's path; persistent volumes
// are runtime named volumes (PersistentVolumeName: node, namespace and
// Volume name), which outlive pods and which Cleanup never touches. Setup
// mounts one only when its Volume lives on this node (ElsewhereError
// otherwise: a pod never starts on an empty copy of its data); the
// Reclaimer removes the data of this node's Volumes deleted with reclaim
// policy Delete, once no pod uses them, and then releases the Volume.
//
// Config maps and secrets are projected with Kubernetes' atomic update
// scheme, so a container never sees half of an update:
//
//	<name>/..2030_01_02_15_04_05.123456/   the files of one version
//	<name>/..data -> ..2030_01_02_15_04_05.123456   swapped with rename(2)
//	<name>/<key>  -> ..data/<key>          stable names for the container
//
// Setup is level-based: the agent calls it before (re)starting a pod's
// containers, and again whenever it likes; unchanged content writes
// nothing, changed content gets a new version dir and a new ..data in the
// same directory, which containers see through their existing mounts
// (except subPath mounts, which pin one version, as in Kubernetes).
package volumes
