// Package manifest turns what a user asked for on nb's command line into
// exactly the objects the NooBaa operator and the bucket provisioner expect:
// credential Secrets, BackingStores, NamespaceStores, BucketClasses and
// ObjectBucketClaims. Everything here is pure: inputs are plain structs named
// after the CLI flags, validation returns exitcode.UsageError naming the
// flag at fault, and builders do no I/O.
package manifest
