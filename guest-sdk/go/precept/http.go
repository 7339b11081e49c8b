package precept

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
	"precept.dev/sdk/imports/wasi_http_outgoing_handler"
	"precept.dev/sdk/imports/wasi_http_types"
	"precept.dev/sdk/imports/wasi_io_streams"
)

// ErrDenied is wrapped by the error of a request to a host the plugin was
// not granted.
var ErrDenied = errors.New("not a granted host")

// Request is an HTTP request to one of the hosts the plugin was granted.
type Request struct {
	Method string // "GET" when empty
	URL    string // http:// or https://
	Header map[string]string
	Body   []byte
}

// Response is a whole HTTP response.
type Response struct {
	Status int
	Header map[string][]string
	Body   []byte
}

// HTTPGet sends `GET url`.
func HTTPGet(url string) (*Response, error) {
	return HTTPDo(Request{URL: url})
}

// HTTPPost sends `body` to `url`, of type `contentType`.
func HTTPPost(url, contentType string, body []byte) (*Response, error) {
	return HTTPDo(Request{
		Method: "POST", URL: url, Body: body,
		Header: map[string]string{"content-type": contentType},
	})
}

// HTTPDo sends a request and reads the whole response; an error when none
// came (wrapping [ErrDenied] when the host was not granted). Waiting
// counts against the call's clock bound.
func HTTPDo(req Request) (*Response, error) {
	scheme, rest, ok := strings.Cut(req.URL, "://")
	if !ok || (scheme != "http" && scheme != "https") || rest == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", req.URL)
	}
	authority, path, _ := strings.Cut(rest, "/")
	path = "/" + path

	var fields []witTypes.Tuple2[string, []uint8]
	for key, value := range req.Header {
		fields = append(fields, witTypes.Tuple2[string, []uint8]{F0: strings.ToLower(key), F1: []byte(value)})
	}
	if len(req.Body) > 0 {
		length := []byte(strconv.Itoa(len(req.Body)))
		fields = append(fields, witTypes.Tuple2[string, []uint8]{F0: "content-length", F1: length})
	}
	headers := wasi_http_types.FieldsFromList(fields)
	if headers.IsErr() {
		return nil, fmt.Errorf("%s: a header is not allowed", authority)
	}
	request := wasi_http_types.MakeOutgoingRequest(headers.Ok())
	request.SetMethod(method(req.Method))
	if scheme == "https" {
		request.SetScheme(witTypes.Some(wasi_http_types.MakeSchemeHttps()))
	} else {
		request.SetScheme(witTypes.Some(wasi_http_types.MakeSchemeHttp()))
	}
	request.SetAuthority(witTypes.Some(authority))
	request.SetPathWithQuery(witTypes.Some(path))
	outgoing := request.Body().Ok()

	sent := wasi_http_outgoing_handler.Handle(request, witTypes.None[*wasi_http_types.RequestOptions]())
	if sent.IsErr() {
		outgoing.Drop()
		return nil, why(sent.Err(), authority)
	}
	pending := sent.Ok()
	defer pending.Drop()
	if len(req.Body) > 0 {
		stream := outgoing.Write().Ok()
		for start := 0; start < len(req.Body); start += 4096 {
			stream.BlockingWriteAndFlush(req.Body[start:min(start+4096, len(req.Body))])
		}
		stream.Drop()
	}
	wasi_http_types.OutgoingBodyFinish(outgoing, witTypes.None[*wasi_http_types.Fields]())

	ready := pending.Subscribe()
	ready.Block()
	ready.Drop()
	got := pending.Get()
	if got.IsNone() || got.Some().IsErr() {
		return nil, fmt.Errorf("no response from %s", authority)
	}
	if got.Some().Ok().IsErr() {
		return nil, why(got.Some().Ok().Err(), authority)
	}
	return read(got.Some().Ok().Ok())
}

// read takes the whole response, releasing each handle before its parent.
func read(response *wasi_http_types.IncomingResponse) (*Response, error) {
	defer response.Drop()
	result := &Response{Status: int(response.Status()), Header: map[string][]string{}}
	fields := response.Headers()
	for _, entry := range fields.Entries() {
		result.Header[entry.F0] = append(result.Header[entry.F0], string(entry.F1))
	}
	fields.Drop()
	incoming := response.Consume().Ok()
	defer incoming.Drop()
	stream := incoming.Stream().Ok()
	defer stream.Drop()
	for {
		chunk := stream.BlockingRead(65536)
		if chunk.IsErr() {
			if chunk.Err().Tag() == wasi_io_streams.StreamError_Closed {
				return result, nil
			}
			return nil, errors.New("the response was cut off")
		}
		result.Body = append(result.Body, chunk.Ok()...)
	}
}

func method(name string) wasi_http_types.Method {
	switch strings.ToUpper(name) {
	case "", "GET":
		return wasi_http_types.MakeMethodGet()
	case "POST":
		return wasi_http_types.MakeMethodPost()
	case "PUT":
		return wasi_http_types.MakeMethodPut()
	case "DELETE":
		return wasi_http_types.MakeMethodDelete()
	case "HEAD":
		return wasi_http_types.MakeMethodHead()
	case "PATCH":
		return wasi_http_types.MakeMethodPatch()
	}
	return wasi_http_types.MakeMethodOther(name)
}

func why(code wasi_http_types.ErrorCode, authority string) error {
	if code.Tag() == wasi_http_types.ErrorCode_HttpRequestDenied {
		return fmt.Errorf("%s was refused: %w", authority, ErrDenied)
	}
	return fmt.Errorf("no response from %s (error %d)", authority, code.Tag())
}
