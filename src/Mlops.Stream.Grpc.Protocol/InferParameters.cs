using System.Text.Json;
using Google.Protobuf.Collections;

namespace Mlops.Stream.Grpc.Protocol;

/// <summary>
/// v2 "parameters" between the gRPC <see cref="InferParameter"/> map and the JSON object the codec
/// passes through: bool, integers, doubles and strings map one to one; a JSON value the gRPC type
/// cannot hold (object, array, null) travels as its JSON text in a string parameter.
/// </summary>
internal static class InferParameters
{
    public static void Write(Utf8JsonWriter writer, MapField<string, InferParameter> parameters)
    {
        writer.WriteStartObject("parameters"u8);
        foreach (var (name, value) in parameters)
        {
            writer.WritePropertyName(name);
            switch (value.ParameterChoiceCase)
            {
                case InferParameter.ParameterChoiceOneofCase.BoolParam: writer.WriteBooleanValue(value.BoolParam); break;
                case InferParameter.ParameterChoiceOneofCase.Int64Param: writer.WriteNumberValue(value.Int64Param); break;
                case InferParameter.ParameterChoiceOneofCase.Uint64Param: writer.WriteNumberValue(value.Uint64Param); break;
                case InferParameter.ParameterChoiceOneofCase.StringParam: writer.WriteStringValue(value.StringParam); break;
                // JSON has no NaN or infinity; their names as strings keep the value readable.
                case InferParameter.ParameterChoiceOneofCase.DoubleParam when double.IsFinite(value.DoubleParam): writer.WriteNumberValue(value.DoubleParam); break;
                case InferParameter.ParameterChoiceOneofCase.DoubleParam: writer.WriteStringValue(value.DoubleParam.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
                default: writer.WriteNullValue(); break;
            }
        }
        writer.WriteEndObject();
    }

    public static void Read(IReadOnlyDictionary<string, JsonElement>? parameters, MapField<string, InferParameter> into)
    {
        if (parameters is null) return;
        foreach (var (name, value) in parameters)
        {
            into[name] = From(value);
        }
    }

    private static InferParameter From(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => new InferParameter { BoolParam = true },
        JsonValueKind.False => new InferParameter { BoolParam = false },
        JsonValueKind.String => new InferParameter { StringParam = value.GetString() },
        JsonValueKind.Number when value.TryGetInt64(out var whole) => new InferParameter { Int64Param = whole },
        JsonValueKind.Number when value.TryGetUInt64(out var large) => new InferParameter { Uint64Param = large },
        JsonValueKind.Number => new InferParameter { DoubleParam = value.GetDouble() },
        _ => new InferParameter { StringParam = value.GetRawText() },
    };
}
