using System.Text.Json;

namespace Mlops.Stream.Inference.Wire.Internal;

/// <summary>
/// Writes v2 bodies with Utf8JsonWriter directly: this is the hot path (every prediction), so no
/// reflection and no intermediate DTOs. Tensor data is always written flat, as v2 responses are.
/// </summary>
internal static class MessageWriters
{
    public static void WriteRequest(Utf8JsonWriter writer, InferenceRequest request)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, request.Id);
        WriteParameters(writer, request.Parameters);
        writer.WriteStartArray("inputs"u8);
        foreach (var input in request.Inputs)
        {
            WriteTensor(writer, input);
        }

        writer.WriteEndArray();
        if (request.RequestedOutputs is { } outputs)
        {
            writer.WriteStartArray("outputs"u8);
            foreach (var name in outputs)
            {
                writer.WriteStartObject();
                writer.WriteString("name"u8, name);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    public static void WriteResponse(Utf8JsonWriter writer, InferenceResponse response)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, response.Id);
        writer.WriteString("model_name"u8, response.ModelName);
        writer.WriteString("model_version"u8, response.ModelVersion);
        WriteParameters(writer, response.Parameters);
        writer.WriteStartArray("outputs"u8);
        foreach (var output in response.Outputs)
        {
            WriteTensor(writer, output);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static void WriteError(Utf8JsonWriter writer, InferenceError error)
    {
        writer.WriteStartObject();
        writer.WriteString("error"u8, error.Message);
        writer.WriteString("code"u8, error.WireCode);
        writer.WriteEndObject();
    }

    public static void WriteTensor(Utf8JsonWriter writer, Tensor tensor)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, tensor.Name);
        writer.WriteString("datatype"u8, tensor.DataType.ToWireName());
        writer.WriteStartArray("shape"u8);
        foreach (var dim in tensor.Shape)
        {
            writer.WriteNumberValue(dim);
        }

        writer.WriteEndArray();
        WriteParameters(writer, tensor.Parameters);
        writer.WriteStartArray("data"u8);
        switch (tensor.DataType)
        {
            case TensorDataType.Fp32:
                foreach (var value in tensor.Span<float>())
                {
                    if (float.IsFinite(value))
                    {
                        writer.WriteNumberValue(value);
                    }
                    else
                    {
                        writer.WriteStringValue(NonFiniteLiterals.Name(value));
                    }
                }

                break;
            case TensorDataType.Fp64:
                foreach (var value in tensor.Span<double>())
                {
                    if (double.IsFinite(value))
                    {
                        writer.WriteNumberValue(value);
                    }
                    else
                    {
                        writer.WriteStringValue(NonFiniteLiterals.Name(value));
                    }
                }

                break;
            case TensorDataType.Int32:
                foreach (var value in tensor.Span<int>())
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.Int64:
                foreach (var value in tensor.Span<long>())
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.Bool:
                foreach (var value in tensor.Span<bool>())
                {
                    writer.WriteBooleanValue(value);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(tensor), tensor.DataType, "unknown tensor data type");
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteParameters(Utf8JsonWriter writer, IReadOnlyDictionary<string, JsonElement>? parameters)
    {
        if (parameters is null)
        {
            return;
        }

        writer.WriteStartObject("parameters"u8);
        foreach (var (key, value) in parameters)
        {
            writer.WritePropertyName(key);
            value.WriteTo(writer);
        }

        writer.WriteEndObject();
    }
}
