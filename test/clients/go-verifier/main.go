// Verifies one Kupe webhook delivery with the Go reference library of Standard Webhooks, as docs/notifications.md
// shows: reads {"secret", "body", "headers"} as JSON on standard input, prints the event's type when it is
// genuine, and exits 1 with the library's error when it is not (test/clients/webhook-verifiers.test.ts).
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

type delivery struct {
	Secret  string            `json:"secret"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers"`
}

func main() {
	var d delivery
	if err := json.NewDecoder(os.Stdin).Decode(&d); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(2)
	}
	wh, err := standardwebhooks.NewWebhook(d.Secret)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad secret:", err)
		os.Exit(2)
	}
	header := http.Header{}
	for name, value := range d.Headers {
		header.Set(name, value)
	}
	if err := wh.Verify([]byte(d.Body), header); err != nil {
		fmt.Fprintln(os.Stderr, "refused:", err)
		os.Exit(1)
	}
	var event struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(d.Body), &event); err != nil {
		fmt.Fprintln(os.Stderr, "not JSON:", err)
		os.Exit(1)
	}
	fmt.Println(event.Type)
}
