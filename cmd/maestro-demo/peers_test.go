package main

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestWhoamiNamesTheCaller(t *testing.T) {
	ts := newTestServer(t)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	resp, err := c.Get(ts.url + "/whoami")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(string(body), "remote=127.0.0.1:") || resp.StatusCode != http.StatusOK {
		t.Fatalf("whoami = %d %q, want remote=127.0.0.1:<port>", resp.StatusCode, body)
	}
}

func TestUDPCall(t *testing.T) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go serveUDP(ctx, pc, "echo-1", log.New(io.Discard, "", 0))
	ts := newTestServer(t)
	get := func(query string) (int, string) {
		resp, err := http.Get(ts.url + "/udp?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, body := get("addr=" + url.QueryEscape(pc.LocalAddr().String()) + "&data=ping")
	if code != http.StatusOK || !strings.HasPrefix(body, "pod=echo-1 from=127.0.0.1:") || !strings.HasSuffix(body, " ping\n") {
		t.Errorf("udp call = %d %q, want the echo's reply naming the sender", code, body)
	}
	if code, body := get("addr=nowhere&data=x"); code != http.StatusBadRequest || !strings.Contains(body, "addr must be host:port") {
		t.Errorf("bad addr = %d %q, want 400 naming addr", code, body)
	}
}
