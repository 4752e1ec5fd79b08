package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

// Every command group answers a missing, unknown or help subcommand the same way: usage, and an
// error naming the choices (flag.ErrHelp for help, which exits 0).
func TestSubcommand(t *testing.T) {
	for _, tc := range []struct {
		args              []string
		sub, err, out, ko string
	}{
		{args: []string{"run", "--period", "2026-10"}, sub: "run"},
		{args: nil, err: "reports: give a subcommand: list, run or check", ko: "USAGE"},
		{args: []string{"rnu"}, err: `reports: unknown subcommand "rnu": want list, run or check`, ko: "USAGE"},
		{args: []string{"--help"}, err: flag.ErrHelp.Error(), out: "USAGE"},
	} {
		var out, errOut bytes.Buffer
		sub, rest, err := subcommand("reports", "USAGE\n", []string{"list", "run", "check"}, tc.args, &out, &errOut)
		switch {
		case tc.err == "" && (err != nil || sub != tc.sub || len(rest) != len(tc.args)-1):
			t.Errorf("%q: %q %q %v", tc.args, sub, rest, err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%q: error %v, want %s", tc.args, err, tc.err)
		case strings.TrimSpace(out.String()) != tc.out || strings.TrimSpace(errOut.String()) != tc.ko:
			t.Errorf("%q: stdout %q stderr %q", tc.args, out.String(), errOut.String())
		}
		if tc.out != "" && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: help must return flag.ErrHelp", tc.args)
		}
	}
}
