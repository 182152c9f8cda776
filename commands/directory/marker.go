package directory

// Every liaisonbot database holds MarkerKey in MarkerBucket from its first
// start (the directory records there that it loaded the bundled data): the
// program tells its own database from another program's bbolt file by it.
const (
	MarkerBucket = bucketMeta
	MarkerKey    = keySeeded
)

// Buckets of the directory, for reports that count what a database holds.
const (
	BucketOffices  = bucketOffices
	BucketMissions = bucketMissions
)
