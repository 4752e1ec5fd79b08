//go:build !chdb

package store

func openChDB(string, string) (Conn, error) { return nil, ErrNoChDB }
