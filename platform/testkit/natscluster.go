package testkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is a NATS cluster with JetStream on loopback for tests of what replicated streams
// survive. Each node is a nats-server process of its own, built from the module the platform
// requires, with a store directory of its own, so that a node can be killed (SIGKILL: nothing
// flushed, no leadership handed over, no goodbye to its peers or clients) and started again on
// the same ports and directory.
type Cluster struct {
	t     testing.TB
	bin   string
	nodes []*clusterNode
	mu    sync.Mutex // guards the nodes' cmd and exited
}

type clusterNode struct {
	name                   string
	client, route, monitor int
	dir                    string
	cmd                    *exec.Cmd
	exited                 chan struct{}
}

// NATSCluster starts a cluster of n nodes, named n0, n1, …, for the test, and waits until every
// node is healthy and the JetStream meta leader counts all of them current (so a stream of n
// replicas can be placed). Every node still running is killed when the test ends.
func NATSCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, bin: NATSServerBinary(t)}
	ports := freePorts(t, 3*n)
	for i := range n {
		c.nodes = append(c.nodes, &clusterNode{
			name:   fmt.Sprintf("n%d", i),
			client: ports[3*i], route: ports[3*i+1], monitor: ports[3*i+2],
			dir: t.TempDir(),
		})
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.Kill(i)
		}
		if t.Failed() {
			for _, nd := range c.nodes {
				t.Logf("testkit: last lines of node %s:\n%s", nd.name, tail(filepath.Join(nd.dir, "server.log"), 15))
			}
		}
	})
	for i := range n {
		if err := c.launch(i); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := range n {
		if err := c.waitHealthy(i, deadline); err != nil {
			t.Fatal(err)
		}
	}
	for !c.metaComplete() {
		if time.Now().After(deadline) {
			t.Fatalf("testkit: the NATS cluster's JetStream meta leader does not count %d current peers after 30s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The meta leader places a stream only on peers it heard from lately, which its replicas'
	// state does not tell: a stream of n replicas is created and deleted once to be sure.
	if err := c.probePlacement(deadline); err != nil {
		t.Fatal(err)
	}
	return c
}

// probePlacement creates a stream with a replica on every node, retrying until deadline while
// the meta leader finds no place for it, and deletes it.
func (c *Cluster) probePlacement(deadline time.Time) error {
	nc, err := nats.Connect(c.URLs())
	if err != nil {
		return fmt.Errorf("testkit: connect to the NATS cluster: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("testkit: %w", err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	cfg := jetstream.StreamConfig{Name: "TESTKIT_PLACEMENT", Subjects: []string{"testkit.placement"}, Replicas: len(c.nodes)}
	for {
		_, err := js.CreateStream(ctx, cfg)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("testkit: the NATS cluster places no stream of %d replicas: %w", len(c.nodes), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := js.DeleteStream(ctx, cfg.Name); err != nil {
		return fmt.Errorf("testkit: delete stream %s: %w", cfg.Name, err)
	}
	return nil
}

var natsServerBuild struct {
	once sync.Once
	path string
	err  error
}

// NATSServerBinary returns the path of a nats-server binary of the version the module of the
// test requires, building it the first time (`go build github.com/nats-io/nats-server/v2`,
// which needs the Go toolchain and the module cache) into Cache()/bin, where later runs find it.
func NATSServerBinary(t testing.TB) string {
	t.Helper()
	b := &natsServerBuild
	b.once.Do(func() {
		const module = "github.com/nats-io/nats-server/v2"
		version := ""
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, d := range bi.Deps {
				if d.Path == module {
					version = d.Version
				}
			}
		}
		if version == "" {
			// A test binary records no dependencies; the module of the test's directory knows.
			out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", module).Output()
			if err != nil {
				b.err = fmt.Errorf("testkit: go list -m %s: %w", module, err)
				return
			}
			version = strings.TrimSpace(string(out))
		}
		dir := filepath.Join(Cache(), "bin")
		b.path = filepath.Join(dir, "nats-server-"+version)
		if _, err := os.Stat(b.path); err == nil {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.err = fmt.Errorf("testkit: %w", err)
			return
		}
		// Built under a name of its own and renamed, so that a test in another package
		// building at the same time never runs a half-written file.
		tmp := fmt.Sprintf("%s.%d", b.path, os.Getpid())
		out, err := exec.Command("go", "build", "-o", tmp, module).CombinedOutput()
		if err != nil {
			os.Remove(tmp)
			b.err = fmt.Errorf("testkit: go build %s: %w\n%s", module, err, out)
			return
		}
		if err := os.Rename(tmp, b.path); err != nil {
			b.err = fmt.Errorf("testkit: %w", err)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	ls := make([]net.Listener, n)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testkit: free port: %v", err)
		}
		ls[i], ports[i] = l, l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// launch starts node i's process without waiting for it.
func (c *Cluster) launch(i int) error {
	nd := c.nodes[i]
	routes := make([]string, len(c.nodes))
	for j, o := range c.nodes {
		routes[j] = fmt.Sprintf("nats-route://127.0.0.1:%d", o.route)
	}
	logf, err := os.OpenFile(filepath.Join(nd.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("testkit: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(c.bin,
		"--server_name", nd.name, "-a", "127.0.0.1", "-p", strconv.Itoa(nd.client), "-m", strconv.Itoa(nd.monitor),
		"-js", "-sd", filepath.Join(nd.dir, "store"),
		"--cluster_name", "giveback-test", "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", nd.route),
		"--routes", strings.Join(routes, ","))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = killWithParent()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testkit: node %s: %w", nd.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // killed or failed; server.log says why
		close(exited)
	}()
	c.mu.Lock()
	nd.cmd, nd.exited = cmd, exited
	c.mu.Unlock()
	return nil
}

// Start starts node i again, on its ports and store directory, and waits, at most 30s, until
// it is healthy: it takes clients, and the streams and consumers it holds a replica of are
// current again. It may be called from any goroutine.
func (c *Cluster) Start(i int) error {
	if c.Running(i) {
		return nil
	}
	if err := c.launch(i); err != nil {
		return err
	}
	return c.waitHealthy(i, time.Now().Add(30*time.Second))
}

// Kill kills node i with SIGKILL and waits for the process to end. It may be called from any
// goroutine.
func (c *Cluster) Kill(i int) {
	nd := c.nodes[i]
	c.mu.Lock()
	cmd, exited := nd.cmd, nd.exited
	nd.cmd = nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.t.Errorf("testkit: kill node %s: %v", nd.name, err)
	}
	<-exited
}

// Running reports whether node i's process runs.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	cmd, exited := c.nodes[i].cmd, c.nodes[i].exited
	c.mu.Unlock()
	if cmd == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// URLs is the client URL of every node, comma-separated, for nats.Connect.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.nodes))
	for i, nd := range c.nodes {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", nd.client)
	}
	return strings.Join(urls, ",")
}

// Node returns the index of the node named name (as a stream's cluster info names its leader),
// or -1.
func (c *Cluster) Node(name string) int {
	for i, nd := range c.nodes {
		if nd.name == name {
			return i
		}
	}
	return -1
}

// Name returns the server name of node i.
func (c *Cluster) Name(i int) string { return c.nodes[i].name }

// monitorClient asks the nodes' monitoring endpoints. It keeps no connection open, so that no
// goroutine of it outlives a test.
var monitorClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// waitHealthy waits until node i's /healthz answers ok, and fails after deadline or when the
// process ended.
func (c *Cluster) waitHealthy(i int, deadline time.Time) error {
	nd := c.nodes[i]
	c.mu.Lock()
	exited := nd.exited
	c.mu.Unlock()
	last := "no answer"
	for {
		select {
		case <-exited:
			return fmt.Errorf("testkit: node %s ended at start:\n%s", nd.name, tail(filepath.Join(nd.dir, "server.log"), 15))
		default:
		}
		res, err := monitorClient.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", nd.monitor))
		if err == nil {
			var body struct {
				Status string `json:"status"`
				Error  string `json:"error"`
			}
			derr := json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if derr == nil && res.StatusCode == http.StatusOK && body.Status == "ok" {
				return nil
			}
			last = fmt.Sprintf("%d %s %s", res.StatusCode, body.Status, body.Error)
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testkit: node %s not healthy in time: %s", nd.name, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metaComplete reports whether a running node sees a JetStream meta leader that has every other
// node as a current replica.
func (c *Cluster) metaComplete() bool {
	for i, nd := range c.nodes {
		if !c.Running(i) {
			continue
		}
		res, err := monitorClient.Get(fmt.Sprintf("http://127.0.0.1:%d/jsz", nd.monitor))
		if err != nil {
			continue
		}
		var jsz struct {
			Meta *struct {
				Leader   string `json:"leader"`
				Replicas []struct {
					Current bool `json:"current"`
					Offline bool `json:"offline"`
				} `json:"replicas"`
			} `json:"meta_cluster"`
		}
		err = json.NewDecoder(res.Body).Decode(&jsz)
		res.Body.Close()
		if err != nil || jsz.Meta == nil || jsz.Meta.Leader != nd.name {
			continue
		}
		current := 0
		for _, r := range jsz.Meta.Replicas {
			if r.Current && !r.Offline {
				current++
			}
		}
		return current == len(c.nodes)-1
	}
	return false
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
