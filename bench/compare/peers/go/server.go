// bench/compare/peers/go/server.go — the Go net/http peer of corio's server: GET / answers the
// 13-byte "Hello, World!" (text/plain), keep-alive (net/http's default), nothing logged.
//
//	server --port P        (GOMAXPROCS from the environment: the run script sets 1 or 2)
//
// Standard library only. Runs until SIGTERM.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
)

func main() {
	port := flag.Int("port", 0, "port to listen on (127.0.0.1)")
	flag.Parse()
	if *port <= 0 || *port > 65535 {
		fmt.Fprintln(os.Stderr, "usage: server --port P")
		os.Exit(2)
	}
	body := []byte("Hello, World!")
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"} // no sniffing
		w.Write(body)
	})
	fmt.Fprintf(os.Stderr, "go server: port %d, GOMAXPROCS=%d\n", *port, runtime.GOMAXPROCS(0))
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", *port), Handler: mux}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "go server:", err)
		os.Exit(1)
	}
}
