// Command driver drives a Sailfin server through the official Qianfan Go SDK
// (github.com/baidubce/bce-qianfan-sdk/go/qianfan): every call is
// qianfan.NewConsoleAction().Call, so the SDK's own signing and response handling are what the
// server sees and what the tests read (tests/src/sdk-go.test.ts).
//
// Configuration is the SDK's own, from the environment: QIANFAN_CONSOLE_BASE_URL (no _API_, unlike
// the other SDKs) and QIANFAN_ACCESS_KEY / QIANFAN_SECRET_KEY, or QIANFAN_AK / QIANFAN_SK for the
// legacy access_token path.
//
// Input on stdin: JSON values, each a call or an array of calls:
//
//	{"route": "/v2/finetuning", "action": "DescribeFineTuningJobs", "params": {"maxKeys": 10}}
//
// Output: one JSON line per call, written as soon as the call returns, so a caller can feed ids
// from one answer into the next call:
//
//	{"logId": "", "status": 200, "bceErrorCode": "", "body": {...}}
//	{"error": {"type": "APIError", "code": "500001", "message": "param invalid"}}
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/baidubce/bce-qianfan-sdk/go/qianfan"
)

type call struct {
	Route  string                 `json:"route"`
	Action string                 `json:"action"`
	Params map[string]interface{} `json:"params"`
}

type outcome struct {
	// What the SDK parsed from the body (`log_id`; empty on V2).
	LogID string `json:"logId,omitempty"`
	// The SDK does not check the HTTP status of console calls; it is reported from RawResponse.
	Status       int             `json:"status,omitempty"`
	BceErrorCode string          `json:"bceErrorCode,omitempty"`
	Body         json.RawMessage `json:"body,omitempty"`
	Error        *callError      `json:"error,omitempty"`
}

type callError struct {
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(2)
	}
}

func run() error {
	base := os.Getenv("QIANFAN_CONSOLE_BASE_URL")
	if !strings.HasPrefix(base, "http://127.0.0.1:") && !strings.HasPrefix(base, "http://localhost:") {
		return fmt.Errorf("QIANFAN_CONSOLE_BASE_URL must point at a local server, got %q", base)
	}
	// The token endpoint (QIANFAN_BASE_URL) and IAM default to Baidu's hosts: keep them local.
	for _, key := range []string{"QIANFAN_BASE_URL", "QIANFAN_IAM_BASE_URL"} {
		if err := os.Setenv(key, base); err != nil {
			return err
		}
	}
	// The SDK reads ./.env (viper): run where there is none.
	dir, err := os.MkdirTemp("", "qianfan-go-driver-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chdir(dir); err != nil {
		return err
	}

	decoder := json.NewDecoder(os.Stdin)
	encoder := json.NewEncoder(os.Stdout)
	for {
		var value json.RawMessage
		if err := decoder.Decode(&value); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		var calls []call
		if strings.HasPrefix(strings.TrimSpace(string(value)), "[") {
			err = json.Unmarshal(value, &calls)
		} else {
			calls = make([]call, 1)
			err = json.Unmarshal(value, &calls[0])
		}
		if err != nil {
			return err
		}
		for _, c := range calls {
			if err := encoder.Encode(perform(c)); err != nil {
				return err
			}
		}
	}
}

func perform(c call) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := qianfan.NewConsoleAction().Call(ctx, c.Route, c.Action, c.Params)
	if err != nil {
		return outcome{Error: describe(err)}
	}
	out := outcome{LogID: resp.LogID}
	if raw := resp.RawResponse; raw != nil {
		out.Status = raw.StatusCode
		out.BceErrorCode = raw.Header.Get("X-Bce-Error-Code")
	}
	if json.Valid(resp.Body) {
		out.Body = resp.Body
	} else {
		// The SDK swallows transport and decoding errors (it returns a nil error): say so.
		out.Error = &callError{Type: "NoResponse", Message: fmt.Sprintf("the SDK returned no error and a non-JSON body %q", resp.Body)}
	}
	return out
}

func describe(err error) *callError {
	var api *qianfan.APIError
	var iam *qianfan.IAMError
	switch {
	case errors.As(err, &api):
		return &callError{Type: "APIError", Code: strconv.Itoa(api.Code), Message: api.Msg}
	case errors.As(err, &iam):
		return &callError{Type: "IAMError", Code: iam.Code, Message: iam.Msg}
	default:
		return &callError{Type: fmt.Sprintf("%T", err), Message: err.Error()}
	}
}
