module github.com/example-corp/broken

go 1.23

require (
	github.com/nats-io/nats.go v1.37.0
	golang.org/x/sync
)
