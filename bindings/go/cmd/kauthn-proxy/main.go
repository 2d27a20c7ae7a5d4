// Command kauthn-proxy is an example authenticating reverse proxy: it authenticates each
// incoming request with kauthn and forwards it upstream with the identity in
// X-Remote-User, X-Remote-Uid, X-Remote-Group and X-Remote-Extra-<key> headers (the
// front-proxy convention kube-apiserver's --requestheader-* flags read), after removing
// any such headers the client sent.
//
//	kauthn-proxy -listen 127.0.0.1:8443 -upstream http://127.0.0.1:8080 \
//	  -token-auth-file tokens.csv -tls-cert-file server.pem -tls-private-key-file server.key \
//	  -client-ca-file ca.pem
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"

	"kauthn.dev/kauthn"
)

// identityHeaders are the request-header names the proxy owns: anything a client sends
// under them is removed before forwarding, so identity cannot be spoofed.
func isIdentityHeader(name string) bool {
	n := strings.ToLower(name)
	return n == "x-remote-user" || n == "x-remote-uid" || n == "x-remote-group" || strings.HasPrefix(n, "x-remote-extra-")
}

// Handler authenticates requests and forwards them to next with the identity headers.
func Handler(auth *kauthn.Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name := range r.Header {
			if isIdentityHeader(name) {
				r.Header.Del(name)
			}
		}
		user, err := auth.AuthenticateRequest(r)
		if err != nil {
			log.Printf("unable to authenticate the request: %v", err)
			unauthorized(w)
			return
		}
		// The credential has done its job; upstream must not see it (kube-apiserver does
		// the same after authenticating).
		r.Header.Del("Authorization")
		r.Header.Set("X-Remote-User", user.Name)
		if user.UID != "" {
			r.Header.Set("X-Remote-Uid", user.UID)
		}
		for _, g := range user.Groups {
			r.Header.Add("X-Remote-Group", g)
		}
		for k, values := range user.Extra {
			key := "X-Remote-Extra-" + url.PathEscape(k)
			for _, v := range values {
				r.Header.Add(key, v)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401,
	})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8443", "address to listen on")
	upstream := flag.String("upstream", "", "upstream URL to forward authenticated requests to")
	tokenFile := flag.String("token-auth-file", "", "static token file (CSV)")
	clientCA := flag.String("client-ca-file", "", "client CA bundle (PEM)")
	certFile := flag.String("tls-cert-file", "", "serving certificate (PEM); plain HTTP when empty")
	keyFile := flag.String("tls-private-key-file", "", "serving key (PEM)")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil || *upstream == "" {
		log.Fatalf("-upstream: a URL is required")
	}
	cfg := kauthn.Config{}
	if *tokenFile != "" {
		if cfg.TokenFileCSV, err = os.ReadFile(*tokenFile); err != nil {
			log.Fatal(err)
		}
	}
	if *clientCA != "" {
		if cfg.ClientCAPEM, err = os.ReadFile(*clientCA); err != nil {
			log.Fatal(err)
		}
	}
	auth, err := kauthn.NewAuthenticator(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()
	srv := &http.Server{Addr: *listen, Handler: Handler(auth, httputil.NewSingleHostReverseProxy(target))}
	if *certFile != "" {
		// Request, but do not require, client certificates; kauthn verifies them.
		srv.TLSConfig = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
		log.Fatal(srv.ListenAndServeTLS(*certFile, *keyFile))
	}
	log.Fatal(srv.ListenAndServe())
}
