using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlops.Stream.Inference.Wire.Internal;

// These converters plug the hand-written codec into System.Text.Json, so a source-generated
// context (InferenceJsonContext, or the registry's manifest context) and ASP.NET model binding
// serialize the wire types with exactly the same code as the Kafka path.

internal sealed class InferenceRequestJsonConverter : JsonConverter<InferenceRequest>
{
    public override InferenceRequest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        MessageReaders.ReadRequest(ref reader, DecodeOptions.Default, long.MaxValue);

    public override void Write(Utf8JsonWriter writer, InferenceRequest value, JsonSerializerOptions options) =>
        MessageWriters.WriteRequest(writer, value);
}

internal sealed class InferenceResponseJsonConverter : JsonConverter<InferenceResponse>
{
    public override InferenceResponse Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        MessageReaders.ReadResponse(ref reader, DecodeOptions.Default, long.MaxValue);

    public override void Write(Utf8JsonWriter writer, InferenceResponse value, JsonSerializerOptions options) =>
        MessageWriters.WriteResponse(writer, value);
}

internal sealed class InferenceErrorJsonConverter : JsonConverter<InferenceError>
{
    public override InferenceError Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        MessageReaders.ReadError(ref reader);

    public override void Write(Utf8JsonWriter writer, InferenceError value, JsonSerializerOptions options) =>
        MessageWriters.WriteError(writer, value);
}

/// <summary>Writes <see cref="TensorDataType"/> as its v2 name ("FP32") in manifests.</summary>
internal sealed class TensorDataTypeJsonConverter : JsonConverter<TensorDataType>
{
    public override TensorDataType Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var name = reader.GetString();
        return name is not null && TensorDataTypes.TryParse(name, out var type)
            ? type
            : throw new JsonException($"unsupported datatype '{name}' (supported: {TensorDataTypes.SupportedNames})");
    }

    public override void Write(Utf8JsonWriter writer, TensorDataType value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToWireName());
}
