using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Http.Internal;

/// <summary>
/// The Open Inference Protocol's binary tensor data extension over HTTP, as Triton and KServe
/// clients send it. A request's body is a JSON header of <c>Inference-Header-Content-Length</c>
/// bytes followed by the raw elements (<see cref="RawTensorElements"/>) of every input whose
/// <c>parameters.binary_data_size</c> says how many bytes are its, in input order. An answer is
/// binary the same way when the request asks (<c>parameters.binary_data_output: true</c> for
/// every output, or <c>parameters.binary_data: true</c> on a requested output).
///
/// The edge turns a binary request into the v2 JSON body the gateway takes and a JSON answer into
/// the binary one, so the one v2 codec still decodes and validates every request.
/// </summary>
internal static class BinaryTensorExtension
{
    public const string HeaderLength = "Inference-Header-Content-Length";
    private const string BinaryDataSize = "binary_data_size";

    /// <summary>The v2 JSON body for a binary request, or why it cannot be read.</summary>
    public static (byte[]? Json, InferenceError? Error) ToJson(ReadOnlySpan<byte> body, string headerLengthText)
    {
        if (!int.TryParse(headerLengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var headerLength) || headerLength > body.Length)
        {
            return Invalid($"{HeaderLength} is '{headerLengthText}', but it must be the length of the JSON header at the start of the body ({body.Length} bytes)");
        }

        JsonDocument header;
        try
        {
            header = JsonDocument.Parse(body[..headerLength].ToArray());
        }
        catch (JsonException e)
        {
            return (null, new InferenceError(InferenceErrorCode.InvalidJson, $"the JSON header of the binary request is not valid JSON: {e.Message}"));
        }

        using (header)
        {
            var binary = body[headerLength..];
            var buffer = new ArrayBufferWriter<byte>(headerLength + binary.Length * 3);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                if (header.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return Invalid("the JSON header of the binary request must be an object");
                }

                writer.WriteStartObject();
                var used = 0;
                foreach (var property in header.RootElement.EnumerateObject())
                {
                    if (property.NameEquals("inputs") && property.Value.ValueKind == JsonValueKind.Array)
                    {
                        writer.WriteStartArray("inputs");
                        foreach (var input in property.Value.EnumerateArray())
                        {
                            if (WriteInput(writer, input, binary, ref used) is { } error)
                            {
                                return (null, error);
                            }
                        }
                        writer.WriteEndArray();
                    }
                    else
                    {
                        property.WriteTo(writer);
                    }
                }
                writer.WriteEndObject();

                if (used != binary.Length)
                {
                    return Invalid($"the body has {binary.Length} bytes of binary data after its JSON header, but the inputs' binary_data_size add up to {used}");
                }
            }
            return (buffer.WrittenSpan.ToArray(), null);
        }
    }

    /// <summary>An input as it is, or with its binary elements written as its <c>data</c>.</summary>
    private static InferenceError? WriteInput(Utf8JsonWriter writer, JsonElement input, ReadOnlySpan<byte> binary, ref int used)
    {
        if (input.ValueKind != JsonValueKind.Object
            || !input.TryGetProperty("parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object
            || !parameters.TryGetProperty(BinaryDataSize, out var sizeElement))
        {
            input.WriteTo(writer);
            return null;
        }

        var name = input.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : "?";
        if (!sizeElement.TryGetInt32(out var size) || size < 0 || size > binary.Length - used)
        {
            return new InferenceError(InferenceErrorCode.ShapeMismatch,
                $"input '{name}': binary_data_size {sizeElement.GetRawText()} is not within the {binary.Length - used} bytes of binary data left in the body");
        }
        if (input.TryGetProperty("data", out _))
        {
            return new InferenceError(InferenceErrorCode.InvalidRequest, $"input '{name}' has both data and binary_data_size; give its elements one way");
        }

        var datatype = input.TryGetProperty("datatype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        var known = TensorDataTypes.TryParse(datatype, out var type);
        if (known && size % RawTensorElements.Size(type) != 0)
        {
            return new InferenceError(InferenceErrorCode.ShapeMismatch,
                $"input '{name}': binary_data_size {size} is not a whole number of {RawTensorElements.Size(type)}-byte {datatype} elements");
        }

        writer.WriteStartObject();
        foreach (var property in input.EnumerateObject())
        {
            if (property.NameEquals("parameters"))
            {
                WithoutBinaryDataSize(writer, property.Value);
            }
            else
            {
                property.WriteTo(writer);
            }
        }
        writer.WriteStartArray("data");
        // An unknown datatype gets no elements: the codec then refuses it as unsupported_datatype.
        if (known)
        {
            RawTensorElements.WriteJsonValues(writer, type, binary.Slice(used, size));
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        used += size;
        return null;
    }

    private static void WithoutBinaryDataSize(Utf8JsonWriter writer, JsonElement parameters)
    {
        writer.WriteStartObject("parameters");
        foreach (var parameter in parameters.EnumerateObject())
        {
            if (!parameter.NameEquals(BinaryDataSize))
            {
                parameter.WriteTo(writer);
            }
        }
        writer.WriteEndObject();
    }

    /// <summary>Which outputs the request wants binary: all of them, these names, or none.</summary>
    public static BinaryOutputs Requested(ReadOnlySpan<byte> requestJson)
    {
        // Most requests never mention it: look for the word before parsing anything.
        if (requestJson.IndexOf("binary_data"u8) < 0)
        {
            return BinaryOutputs.None;
        }

        try
        {
            using var request = JsonDocument.Parse(requestJson.ToArray());
            var root = request.RootElement;
            if (root.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
                && parameters.TryGetProperty("binary_data_output", out var all) && all.ValueKind == JsonValueKind.True)
            {
                return BinaryOutputs.All;
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            if (root.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Array)
            {
                foreach (var output in outputs.EnumerateArray())
                {
                    if (output.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object
                        && p.TryGetProperty("binary_data", out var binary) && binary.ValueKind == JsonValueKind.True
                        && output.TryGetProperty("name", out var name) && name.GetString() is { } text)
                    {
                        names.Add(text);
                    }
                }
            }
            return names.Count == 0 ? BinaryOutputs.None : new BinaryOutputs(false, names);
        }
        catch (JsonException)
        {
            // The codec answers a body that is not JSON; nothing is asked of the answer's form.
            return BinaryOutputs.None;
        }
    }

    /// <summary>A JSON answer with the asked outputs' elements moved after the header; returns the header's length.</summary>
    public static (byte[] Body, int HeaderLength) ToBinary(ReadOnlySpan<byte> responseJson, BinaryOutputs wanted)
    {
        using var response = JsonDocument.Parse(responseJson.ToArray());
        var tensors = InferenceCodec.DecodeResponse(responseJson).Outputs;
        var header = new ArrayBufferWriter<byte>(256);
        var binary = new ArrayBufferWriter<byte>(responseJson.Length);
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            foreach (var property in response.RootElement.EnumerateObject())
            {
                if (!property.NameEquals("outputs"))
                {
                    property.WriteTo(writer);
                    continue;
                }

                writer.WriteStartArray("outputs");
                var index = 0;
                foreach (var output in property.Value.EnumerateArray())
                {
                    var tensor = tensors[index++];
                    if (!wanted.Includes(tensor.Name))
                    {
                        output.WriteTo(writer);
                        continue;
                    }

                    var bytes = RawTensorElements.Of(tensor);
                    binary.Write(bytes);
                    writer.WriteStartObject();
                    foreach (var field in output.EnumerateObject())
                    {
                        if (!field.NameEquals("data") && !field.NameEquals("parameters"))
                        {
                            field.WriteTo(writer);
                        }
                    }
                    writer.WriteStartObject("parameters");
                    if (output.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var parameter in parameters.EnumerateObject())
                        {
                            parameter.WriteTo(writer);
                        }
                    }
                    writer.WriteNumber(BinaryDataSize, bytes.Length);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }

        var body = new byte[header.WrittenCount + binary.WrittenCount];
        header.WrittenSpan.CopyTo(body);
        binary.WrittenSpan.CopyTo(body.AsSpan(header.WrittenCount));
        return (body, header.WrittenCount);
    }

    private static (byte[]?, InferenceError?) Invalid(string message) => (null, new InferenceError(InferenceErrorCode.InvalidRequest, message));
}

/// <summary>Which outputs of an answer go as binary data.</summary>
internal sealed record BinaryOutputs(bool Every, IReadOnlySet<string> Names)
{
    public static BinaryOutputs None { get; } = new(false, new HashSet<string>());
    public static BinaryOutputs All { get; } = new(true, new HashSet<string>());

    public bool Any => Every || Names.Count > 0;

    public bool Includes(string output) => Every || Names.Contains(output);
}
