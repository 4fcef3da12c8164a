// An S3 client in Go (minio-go v7: raw syscalls, its own resolver, a
// non-blocking connect polled with epoll) that talks to the endpoint it is
// given, never to roar's proxy: `go_s3 HOST:PORT BUCKET put KEY FILE`
// uploads FILE, `go_s3 HOST:PORT BUCKET get KEY FILE` downloads into FILE.
// Credentials and region come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_REGION. Prints the remote address Go saw for its connection
// (`peer=IP:PORT`, from an HTTP trace): the original destination when the
// tracer answers getpeername for a redirected socket.
package main

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"os"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_s3:", err)
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: go_s3 HOST:PORT BUCKET put|get KEY FILE")
		os.Exit(2)
	}
	endpoint, bucket, verb, key, file := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), ""),
		Secure: false,
		Region: os.Getenv("AWS_REGION"),
	})
	must(err)
	peer := ""
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if peer == "" {
			peer = info.Conn.RemoteAddr().String()
		}
	}}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	switch verb {
	case "put":
		_, err = client.FPutObject(ctx, bucket, key, file, minio.PutObjectOptions{})
	case "get":
		err = client.FGetObject(ctx, bucket, key, file, minio.GetObjectOptions{})
	default:
		err = fmt.Errorf("unknown verb %q", verb)
	}
	must(err)
	fmt.Printf("peer=%s\n", peer)
}
