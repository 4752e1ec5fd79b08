module giveback.dev/services/ingest

go 1.26.0

require (
	giveback.dev/platform v0.0.0
	giveback.dev/schemas v0.0.0
)

replace (
	giveback.dev/platform => ../../platform
	giveback.dev/schemas => ../../schemas
)
