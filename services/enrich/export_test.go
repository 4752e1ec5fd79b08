package enrich

import "giveback.dev/platform/events"

// SetMapRecord replaces the mapper for a test, which restores it with the function returned.
func SetMapRecord(f func(r *events.Raw) ([]events.Contribution, error)) (restore func()) {
	old := mapRecord
	mapRecord = f
	return func() { mapRecord = old }
}

// SetAfterPlace runs f between placing a batch and storing it, until the returned restore.
func SetAfterPlace(f func()) (restore func()) {
	old := afterPlace
	afterPlace = f
	return func() { afterPlace = old }
}
