package store

// ServerValue is plain, for the tests of package store_test.
var ServerValue = plain
