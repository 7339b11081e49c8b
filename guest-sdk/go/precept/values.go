package precept

import (
	"encoding/json"
	"math"
	"sort"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
	"precept.dev/sdk/imports/precept_plugin_types"
)

// Payload holds an event's values, or a command's arguments, by name.
//
// Values read are nil (absent), bool, int64, float64, string, []any of
// those (a list), or [json.RawMessage]. Values written may also be any
// other integer or float type, or []string and the like; anything else
// is sent as JSON.
type Payload map[string]any

// Int is the integer `key`; false when it is absent or not an integer.
func (p Payload) Int(key string) (int64, bool) {
	n, ok := p[key].(int64)
	return n, ok
}

// Float is the number `key` (an integer too); false when it is neither.
func (p Payload) Float(key string) (float64, bool) {
	switch v := p[key].(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	}
	return 0, false
}

// Text is the text `key`; false when it is absent or not text.
func (p Payload) Text(key string) (string, bool) {
	s, ok := p[key].(string)
	return s, ok
}

// Flag is whether the flag `key` is given and true.
func (p Payload) Flag(key string) bool {
	b, _ := p[key].(bool)
	return b
}

func fromPayload(payload precept_plugin_types.Payload) Payload {
	values := make(Payload, len(payload))
	for _, entry := range payload {
		values[entry.F0] = fromValue(entry.F1)
	}
	return values
}

// toPayload orders the entries by name, so a payload is sent the same way
// every time.
func toPayload(values Payload) precept_plugin_types.Payload {
	keys := make([]string, 0, len(values))
	for key := range values {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	payload := make(precept_plugin_types.Payload, 0, len(keys))
	for _, key := range keys {
		payload = append(payload, witTypes.Tuple2[string, precept_plugin_types.Value]{
			F0: key, F1: toValue(values[key]),
		})
	}
	return payload
}

func fromValue(value precept_plugin_types.Value) any {
	switch value.Tag() {
	case precept_plugin_types.Value_Boolean:
		return value.Boolean()
	case precept_plugin_types.Value_Integer:
		return value.Integer()
	case precept_plugin_types.Value_Float:
		return value.Float()
	case precept_plugin_types.Value_Text:
		return value.Text()
	case precept_plugin_types.Value_List:
		items := make([]any, len(value.List()))
		for i, item := range value.List() {
			items[i] = fromScalar(item)
		}
		return items
	case precept_plugin_types.Value_Json:
		return json.RawMessage(value.Json())
	}
	return nil
}

func fromScalar(scalar precept_plugin_types.Scalar) any {
	switch scalar.Tag() {
	case precept_plugin_types.Scalar_Boolean:
		return scalar.Boolean()
	case precept_plugin_types.Scalar_Integer:
		return scalar.Integer()
	case precept_plugin_types.Scalar_Float:
		return scalar.Float()
	case precept_plugin_types.Scalar_Text:
		return scalar.Text()
	}
	return nil
}

func toValue(v any) precept_plugin_types.Value {
	if scalar, ok := toScalar(v); ok {
		switch scalar.Tag() {
		case precept_plugin_types.Scalar_Boolean:
			return precept_plugin_types.MakeValueBoolean(scalar.Boolean())
		case precept_plugin_types.Scalar_Integer:
			return precept_plugin_types.MakeValueInteger(scalar.Integer())
		case precept_plugin_types.Scalar_Float:
			return precept_plugin_types.MakeValueFloat(scalar.Float())
		case precept_plugin_types.Scalar_Text:
			return precept_plugin_types.MakeValueText(scalar.Text())
		}
		return precept_plugin_types.MakeValueAbsent()
	}
	if raw, ok := v.(json.RawMessage); ok {
		return precept_plugin_types.MakeValueJson(string(raw))
	}
	if list, ok := toList(v); ok {
		return precept_plugin_types.MakeValueList(list)
	}
	text, err := json.Marshal(v)
	if err != nil {
		panic("precept: " + err.Error())
	}
	return precept_plugin_types.MakeValueJson(string(text))
}

// toScalar converts nil, booleans, numbers (integers that fit an int64)
// and strings.
func toScalar(v any) (precept_plugin_types.Scalar, bool) {
	switch v := v.(type) {
	case nil:
		return precept_plugin_types.MakeScalarAbsent(), true
	case bool:
		return precept_plugin_types.MakeScalarBoolean(v), true
	case int:
		return precept_plugin_types.MakeScalarInteger(int64(v)), true
	case int8:
		return precept_plugin_types.MakeScalarInteger(int64(v)), true
	case int16:
		return precept_plugin_types.MakeScalarInteger(int64(v)), true
	case int32:
		return precept_plugin_types.MakeScalarInteger(int64(v)), true
	case int64:
		return precept_plugin_types.MakeScalarInteger(v), true
	case uint8:
		return precept_plugin_types.MakeScalarInteger(int64(v)), true
	case uint16:
		return precept_plugin_types.MakeScalarInteger(int64(v)), true
	case uint32:
		return precept_plugin_types.MakeScalarInteger(int64(v)), true
	case uint:
		if uint64(v) <= math.MaxInt64 {
			return precept_plugin_types.MakeScalarInteger(int64(v)), true
		}
	case uint64:
		if v <= math.MaxInt64 {
			return precept_plugin_types.MakeScalarInteger(int64(v)), true
		}
	case float32:
		return precept_plugin_types.MakeScalarFloat(float64(v)), true
	case float64:
		return precept_plugin_types.MakeScalarFloat(v), true
	case string:
		return precept_plugin_types.MakeScalarText(v), true
	}
	return precept_plugin_types.Scalar{}, false
}

// toList converts a slice of scalars; false for anything else.
func toList(v any) ([]precept_plugin_types.Scalar, bool) {
	var items []any
	switch v := v.(type) {
	case []any:
		items = v
	case []string:
		items = each(v)
	case []int64:
		items = each(v)
	case []int:
		items = each(v)
	case []float64:
		items = each(v)
	case []bool:
		items = each(v)
	default:
		return nil, false
	}
	list := make([]precept_plugin_types.Scalar, len(items))
	for i, item := range items {
		scalar, ok := toScalar(item)
		if !ok {
			return nil, false
		}
		list[i] = scalar
	}
	return list, true
}

func each[T any](values []T) []any {
	items := make([]any, len(values))
	for i, v := range values {
		items[i] = v
	}
	return items
}
