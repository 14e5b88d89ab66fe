using System.Buffers;
using System.Text.Json;
using Google.Protobuf;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Grpc.Protocol;

/// <summary>
/// Turns a <see cref="ModelInferRequest"/> (a gRPC call's, or a Kafka record's) into the v2 JSON body
/// the gateway takes, the same body an HTTP caller posts, so the one v2 codec decodes and validates
/// requests from every edge (id, datatypes, shapes against element counts, NaN, limits) with the same codes and messages.
/// Only what JSON cannot say is checked here: how raw_input_contents and typed contents are given.
/// Tensor elements are copied exactly: floats are written in their shortest round-trip form, so the
/// model sees bit for bit the values the caller sent.
/// </summary>
public static class InferRequestTranslator
{
    /// <summary>The v2 JSON body, or the error that refuses the request (never both).</summary>
    public static (byte[]? Body, InferenceError? Error) ToJson(ModelInferRequest request)
    {
        if (CheckLayout(request) is { } error)
        {
            return (null, error);
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, request.Id);
            if (request.Parameters.Count > 0)
            {
                InferParameters.Write(writer, request.Parameters);
            }
            writer.WriteStartArray("inputs"u8);
            for (var i = 0; i < request.Inputs.Count; i++)
            {
                var raw = request.RawInputContents.Count > 0 ? request.RawInputContents[i] : null;
                if (WriteInput(writer, request.Inputs[i], raw) is { } inputError)
                {
                    return (null, inputError);
                }
            }
            writer.WriteEndArray();
            if (request.Outputs.Count > 0)
            {
                writer.WriteStartArray("outputs"u8);
                foreach (var output in request.Outputs)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name"u8, output.Name);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return (buffer.WrittenSpan.ToArray(), null);
    }

    /// <summary>raw_input_contents, when used, has one entry per input and no input carries typed contents too.</summary>
    private static InferenceError? CheckLayout(ModelInferRequest request)
    {
        var raw = request.RawInputContents.Count;
        if (raw == 0)
        {
            return null;
        }
        if (raw != request.Inputs.Count)
        {
            return Invalid(InferenceErrorCode.InvalidRequest,
                $"raw_input_contents has {raw} entries for {request.Inputs.Count} inputs; give one per input, in the order of inputs");
        }
        foreach (var input in request.Inputs)
        {
            if (input.Contents is { } contents && TypedField.Populated(contents) is { } field)
            {
                return Invalid(InferenceErrorCode.InvalidRequest,
                    $"input '{input.Name}' has elements in contents.{field} while raw_input_contents is used; give every input's elements one way");
            }
        }
        return null;
    }

    private static InferenceError? WriteInput(Utf8JsonWriter writer, ModelInferRequest.Types.InferInputTensor input, ByteString? raw)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, input.Name);
        writer.WriteString("datatype"u8, input.Datatype);
        writer.WriteStartArray("shape"u8);
        foreach (var dim in input.Shape)
        {
            writer.WriteNumberValue(dim);
        }
        writer.WriteEndArray();
        if (input.Parameters.Count > 0)
        {
            InferParameters.Write(writer, input.Parameters);
        }

        writer.WriteStartArray("data"u8);
        // A datatype this server does not handle gets no elements here: the codec then refuses it
        // as unsupported_datatype, with the message an HTTP caller gets.
        if (TensorDataTypes.TryParse(input.Datatype, out var type))
        {
            var error = raw is null ? WriteTyped(writer, input, type) : WriteRaw(writer, input.Name, type, raw.Span);
            if (error is not null)
            {
                return error;
            }
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        return null;
    }

    private static InferenceError? WriteTyped(Utf8JsonWriter writer, ModelInferRequest.Types.InferInputTensor input, TensorDataType type)
    {
        var contents = input.Contents ?? new InferTensorContents();
        var expected = TypedField.For(type);
        if (TypedField.Populated(contents) is { } found && found != expected)
        {
            return Invalid(InferenceErrorCode.DtypeMismatch,
                $"input '{input.Name}' is {input.Datatype} but its elements are in contents.{found}; {input.Datatype} elements go in contents.{expected}");
        }

        switch (type)
        {
            case TensorDataType.Bool: foreach (var v in contents.BoolContents) writer.WriteBooleanValue(v); break;
            case TensorDataType.Int32: foreach (var v in contents.IntContents) writer.WriteNumberValue(v); break;
            case TensorDataType.Int64: foreach (var v in contents.Int64Contents) writer.WriteNumberValue(v); break;
            case TensorDataType.Fp32: foreach (var v in contents.Fp32Contents) RawTensorElements.WriteJsonFloat(writer, v); break;
            case TensorDataType.Fp64: foreach (var v in contents.Fp64Contents) RawTensorElements.WriteJsonFloat(writer, v); break;
        }
        return null;
    }

    private static InferenceError? WriteRaw(Utf8JsonWriter writer, string name, TensorDataType type, ReadOnlySpan<byte> raw)
    {
        var size = RawTensorElements.Size(type);
        if (raw.Length % size != 0)
        {
            return Invalid(InferenceErrorCode.ShapeMismatch,
                $"input '{name}': its raw contents are {raw.Length} bytes, not a whole number of {size}-byte {type.ToWireName()} elements");
        }

        RawTensorElements.WriteJsonValues(writer, type, raw);
        return null;
    }

    private static InferenceError Invalid(InferenceErrorCode code, string message) => new(code, message);
}
