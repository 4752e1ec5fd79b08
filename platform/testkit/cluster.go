package testkit

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a NATS cluster with JetStream on loopback, each node with a store directory of its
// own, for tests of what replicated streams survive. Nodes can be stopped and started again on
// the same ports and directories.
type Cluster struct {
	t     testing.TB
	opts  []*server.Options
	nodes []*server.Server
}

// NATSCluster starts a cluster of n nodes for the test and waits until JetStream has a meta
// leader. Every node still running is shut down when the test ends.
func NATSCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	clientPorts, routePorts := freePorts(t, n), freePorts(t, n)
	routes := make([]*url.URL, n)
	for i, p := range routePorts {
		routes[i] = &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)}
	}
	c := &Cluster{t: t, nodes: make([]*server.Server, n)}
	for i := range n {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("n%d", i),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   t.TempDir(),
			Cluster:    server.ClusterOpts{Name: "giveback-test", Host: "127.0.0.1", Port: routePorts[i]},
			Routes:     routes,
			NoSigs:     true,
			NoLog:      true,
		})
	}
	// All nodes stop at once: stopped one after another, each would hand its leaderships to the
	// next to stop.
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, s := range c.nodes {
			if s != nil {
				wg.Go(func() {
					s.Shutdown()
					s.WaitForShutdown()
				})
			}
		}
		wg.Wait()
	})
	for i := range n {
		c.Start(i)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !c.hasMetaLeader() {
		if time.Now().After(deadline) {
			t.Fatal("testkit: the NATS cluster elected no JetStream meta leader in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
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

func (c *Cluster) hasMetaLeader() bool {
	for _, s := range c.nodes {
		if s != nil && s.JetStreamIsLeader() {
			return true
		}
	}
	return false
}

// Start starts node i (again) on its ports and store directory and waits until it takes
// clients.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	if c.nodes[i] != nil {
		return
	}
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		c.t.Fatalf("testkit: node %s: %v", c.opts[i].ServerName, err)
	}
	s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		c.t.Fatalf("testkit: node %s not ready after 15s", c.opts[i].ServerName)
	}
	c.nodes[i] = s
}

// Stop shuts node i down and waits for it. The server steps down from whatever it leads first,
// as a node being stopped in operation does.
func (c *Cluster) Stop(i int) {
	if s := c.nodes[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.nodes[i] = nil
	}
}

// URLs is the client URL of every node, comma-separated, for nats.Connect.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.opts))
	for i, o := range c.opts {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", o.Port)
	}
	return strings.Join(urls, ",")
}

// Node returns the index of the node named name (as a stream's cluster info names its leader),
// or -1.
func (c *Cluster) Node(name string) int {
	for i, o := range c.opts {
		if o.ServerName == name {
			return i
		}
	}
	return -1
}

// Running reports whether node i is up.
func (c *Cluster) Running(i int) bool { return c.nodes[i] != nil }
