// Package aws is the cloud.Cloud of Amazon EC2, built on the official SDK
// (github.com/aws/aws-sdk-go-v2/service/ec2): a machine is one instance.
//
// # Calls
//
//   - Create: RunInstances (MinCount = MaxCount = 1) with the machine's boot
//     script (cloud.UserData) as user data, ClientToken = the request's
//     idempotency key (its SHA-256 when longer than EC2's 64 characters),
//     the tags maestro.dev/cluster, maestro.dev/pool, maestro.dev/machine
//     and Name (plus Options.Tags), the zone as Placement and the subnet of
//     Options.SubnetIDs in that zone (DescribeSubnets, read once), security
//     groups, instance profile, key pair, Options.AMI, the request's
//     machine type as instance type; spot as a one-time spot request whose
//     instance is terminated on interruption. A repeated or retried
//     RunInstances with the same token returns the first instance: no
//     second one. When EC2 says IdempotentParameterMismatch (the same key
//     with other parameters, such as user data with a fresh join token),
//     the instance of that token (DescribeInstances, filter client-token)
//     is the answer if it is the same machine, else ErrInvalid.
//   - Get, List: DescribeInstances by ID, or by the cluster and pool tags,
//     through every page. Terminated instances, which EC2 shows for about an
//     hour, are listed as terminated so the controller replaces them;
//     stopped ones too (maestro never stops an instance). A running spot
//     instance whose spot request's status is marked-for-termination (one
//     DescribeSpotInstanceRequests per call) is Interrupted: EC2 has given
//     its two-minute notice.
//   - Delete: TerminateInstances, then DescribeInstances until the instance
//     is terminated (Options.PollInterval, bounded by the context). An
//     unknown or malformed instance ID is already deleted.
//   - Logs: GetConsoleOutput (the instance's serial console), for instances
//     that are not terminated.
//
// # Credentials, region, endpoint
//
// config.LoadDefaultConfig: credentials from the SDK's default chain
// (environment, shared files and profiles, SSO, web identity, container and
// instance roles), the region from Options.Region or the chain. New makes
// no call; a call without usable credentials fails with ErrPermission
// carrying the SDK's message. Options.Endpoint overrides EC2's endpoint
// (ec2fake in tests; AWS_ENDPOINT_URL_EC2 works too).
//
// # Errors
//
// Every EC2 error keeps its code and message ("machine m1:
// InsufficientInstanceCapacity: We currently do not have sufficient ..."),
// classified: insufficient capacity is ErrCapacity (the controller tries the
// pool's next zone; never retried here although EC2 sends it as HTTP 500),
// instance and vCPU limits ErrQuota, UnauthorizedOperation, AuthFailure and
// credential failures ErrPermission, invalid parameters, AMIs, subnets and
// unknown instance types ErrInvalid, an unknown instance ErrNotFound.
// Throttling (RequestLimitExceeded), 5xx and lost connections are retried by
// the SDK's standard retryer (Options.RetryMaxAttempts, RetryMaxBackoff,
// jittered exponential backoff, no client-side retry quota) and are then
// ErrTransient.
//
// The user data holds the join token: it is never logged nor put in an
// error (the SDK does not log request bodies unless asked to).
package aws
