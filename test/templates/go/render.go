// Command render is the oracle for maand's template engine: it renders templates with Go's own
// text/template and the function map maand specifies (server/templates/maand-funcs.ts), so the
// differential test and the benchmark can compare maand's output byte for byte with Go's.
//
// Standard library only, no module: `go build -o render render.go` or `go run render.go`.
//
// stdin, one of:
//
//	{"cases": [{"name", "source", "data", "kv": {ns: {key: value}}, "deny": [ns], "ownJob", "withMaps"}]}
//	{"bench": {"source", "allocations": [data], "kv", "ownJob"}}
//
// stdout: {"results": [{"output": "..."} | {"error": "..."}]} for cases, or for bench
// {"renders": N, "bytes": B, "sha256": "..."} over the concatenated outputs.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// Data is the dot of every maand template (SPEC §12), field for field and in the same order as
// server/templates/data.ts, because %v of the whole dot prints the fields in declaration order.
type Data struct {
	WorkerIP        string
	WorkerID        string
	Job             string
	AllocationID    string
	AllocationIndex int
	CurrentVersion  string
	NewVersion      string
	Labels          []string
	BucketPath      string
	JobPath         string
}

// MapData is Data plus two map fields. maand's dot has no maps, but the engine implements Go's
// map semantics (sorted range, <no value> for a missing key, index's zero value), so cases that
// set withMaps check them against this struct.
type MapData struct {
	WorkerIP        string
	WorkerID        string
	Job             string
	AllocationID    string
	AllocationIndex int
	CurrentVersion  string
	NewVersion      string
	Labels          []string
	BucketPath      string
	JobPath         string
	Tags            map[string]string
	Ports           map[string]int
}

type kvStore struct {
	values map[string]map[string]string
	deny   map[string]bool
}

func (kv kvStore) readable(ns string) error {
	if kv.deny[ns] {
		return fmt.Errorf("namespace %q may not be read", ns)
	}
	return nil
}

func (kv kvStore) get(ns, key string) (string, bool, error) {
	if err := kv.readable(ns); err != nil {
		return "", false, err
	}
	v, ok := kv.values[ns][key]
	return v, ok, nil
}

// toInt is the one conversion add, sub, mul, div, min, max and int apply to each argument: an int
// is itself, a string must be a base-10 integer exactly as strconv.Atoi reads it (optional sign,
// no spaces, fits in 64 bits); anything else (float, bool, uint8 from index, nil, lists) is an
// error.
func toInt(v interface{}) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	case nil:
		return 0, errors.New("nil is not an integer")
	default:
		return 0, fmt.Errorf("cannot convert %T to int", v)
	}
}

func arith(op func(a, b int) (int, error)) func(a, b interface{}) (int, error) {
	return func(a, b interface{}) (int, error) {
		x, err := toInt(a)
		if err != nil {
			return 0, err
		}
		y, err := toInt(b)
		if err != nil {
			return 0, err
		}
		return op(x, y)
	}
}

func funcs(kv kvStore, ownJob string) template.FuncMap {
	secretNs := "secrets/job/" + ownJob
	return template.FuncMap{
		"get": func(ns, key string) (string, error) {
			v, ok, err := kv.get(ns, key)
			if err != nil {
				return "", err
			}
			if !ok {
				return "", fmt.Errorf("key %q not found in namespace %q", key, ns)
			}
			return v, nil
		},
		"getOptional": func(ns, key string) (string, error) {
			v, _, err := kv.get(ns, key)
			return v, err
		},
		"getSecret": func(args ...string) (string, error) {
			ns, key := secretNs, ""
			switch len(args) {
			case 1:
				key = args[0]
			case 2:
				ns, key = args[0], args[1]
			default:
				return "", fmt.Errorf("getSecret takes a key, or a namespace and a key; got %d arguments", len(args))
			}
			v, ok, err := kv.get(ns, key)
			if err != nil {
				return "", err
			}
			if !ok {
				return "", fmt.Errorf("secret %q not found in namespace %q", key, ns)
			}
			return v, nil
		},
		"keys": func(ns string) ([]string, error) {
			if err := kv.readable(ns); err != nil {
				return nil, err
			}
			out := []string{}
			for k := range kv.values[ns] {
				out = append(out, k)
			}
			sort.Strings(out)
			return out, nil
		},
		"split": strings.Split,
		"join":  func(list []string, sep string) string { return strings.Join(list, sep) },
		"trim":  strings.TrimSpace,
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		"add":   arith(func(a, b int) (int, error) { return a + b, nil }),
		"sub":   arith(func(a, b int) (int, error) { return a - b, nil }),
		"mul":   arith(func(a, b int) (int, error) { return a * b, nil }),
		"div": arith(func(a, b int) (int, error) {
			if b == 0 {
				return 0, errors.New("division by zero")
			}
			return a / b, nil
		}),
		"min": arith(func(a, b int) (int, error) {
			if b < a {
				return b, nil
			}
			return a, nil
		}),
		"max": arith(func(a, b int) (int, error) {
			if b > a {
				return b, nil
			}
			return a, nil
		}),
		"int": toInt,
	}
}

type caseIn struct {
	Name     string                       `json:"name"`
	Source   string                       `json:"source"`
	Data     json.RawMessage              `json:"data"`
	KV       map[string]map[string]string `json:"kv"`
	Deny     []string                     `json:"deny"`
	OwnJob   string                       `json:"ownJob"`
	WithMaps bool                         `json:"withMaps"`
}

type result struct {
	Output *string `json:"output,omitempty"`
	Error  *string `json:"error,omitempty"`
}

type benchIn struct {
	Source      string                       `json:"source"`
	Allocations []Data                       `json:"allocations"`
	KV          map[string]map[string]string `json:"kv"`
	OwnJob      string                       `json:"ownJob"`
}

type request struct {
	Cases []caseIn `json:"cases"`
	Bench *benchIn `json:"bench"`
}

// exactCap gives a slice capacity equal to its length: JSON decoding over-allocates, and Go's
// `slice` builtin may index up to the capacity, which maand (holding plain arrays) cannot see.
func exactCap(s []string) []string {
	out := make([]string, len(s))
	copy(out, s)
	return out
}

func dataFor(c caseIn) (interface{}, error) {
	raw := c.Data
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	if c.WithMaps {
		var d MapData
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, err
		}
		d.Labels = exactCap(d.Labels)
		return d, nil
	}
	var d Data
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	d.Labels = exactCap(d.Labels)
	return d, nil
}

func kvFor(values map[string]map[string]string, deny []string) kvStore {
	kv := kvStore{values: values, deny: map[string]bool{}}
	for _, ns := range deny {
		kv.deny[ns] = true
	}
	return kv
}

func runCase(c caseIn) result {
	data, err := dataFor(c)
	if err != nil {
		msg := "bad case data: " + err.Error()
		return result{Error: &msg}
	}
	t, err := template.New(c.Name).Funcs(funcs(kvFor(c.KV, c.Deny), c.OwnJob)).Parse(c.Source)
	if err != nil {
		msg := err.Error()
		return result{Error: &msg}
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		msg := err.Error()
		return result{Error: &msg}
	}
	out := buf.String()
	return result{Output: &out}
}

func runBench(b benchIn) (map[string]interface{}, error) {
	t, err := template.New("bench.tpl").Funcs(funcs(kvFor(b.KV, nil), b.OwnJob)).Parse(b.Source)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	total := 0
	var buf bytes.Buffer
	for _, d := range b.Allocations {
		buf.Reset()
		d.Labels = exactCap(d.Labels)
		if err := t.Execute(&buf, d); err != nil {
			return nil, err
		}
		total += buf.Len()
		h.Write(buf.Bytes())
	}
	return map[string]interface{}{"renders": len(b.Allocations), "bytes": total, "sha256": hex.EncodeToString(h.Sum(nil))}, nil
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "render: bad request:", err)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	if req.Bench != nil {
		out, err := runBench(*req.Bench)
		if err != nil {
			fmt.Fprintln(os.Stderr, "render:", err)
			os.Exit(1)
		}
		enc.Encode(out)
		return
	}
	results := make([]result, len(req.Cases))
	for i, c := range req.Cases {
		results[i] = runCase(c)
	}
	enc.Encode(map[string]interface{}{"results": results})
}
