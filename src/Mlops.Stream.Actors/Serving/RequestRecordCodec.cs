using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using Mlops.Stream.Grpc.Protocol;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Actors.Serving;

/// <summary>
/// Reads one request record's value and writes its prediction's, in the encodings its headers chose
/// (<see cref="RecordContentTypes"/>). A protobuf <c>ModelInferRequest</c> goes through the gRPC edge's
/// own mapping to the v2 JSON body (<see cref="InferRequestTranslator"/>) and then the one v2 codec, so
/// the same checks and error codes apply whichever encoding a request came in; its model_name and
/// model_version are not read (the topic names the model, and the replica serves its current version).
/// </summary>
public sealed class RequestRecordCodec
{
    /// <summary>Dead-letter code of a record whose content-type says protobuf but whose value is not a ModelInferRequest.</summary>
    public const string InvalidProtobufCode = "invalid_protobuf";

    /// <summary>A protobuf request that gave its elements as raw_input_contents gets raw_output_contents back, as on the gRPC edge.</summary>
    private bool _rawOutputs;

    private RequestRecordCodec(RecordEncoding request, RecordEncoding answer)
    {
        Request = request;
        Answer = answer;
    }

    public RecordEncoding Request { get; }

    public RecordEncoding Answer { get; }

    /// <summary>The prediction's <c>content-type</c> header value.</summary>
    public string AnswerContentType => RecordContentTypes.Of(Answer, request: false);

    /// <summary>The codec a record's headers ask for, or the dead letter's code and reason when they ask for one this server lacks.</summary>
    public static bool TryFor(Confluent.Kafka.Headers? headers, [NotNullWhen(true)] out RequestRecordCodec? codec, [NotNullWhen(false)] out RequestRefusal? refusal)
    {
        if (RecordContentTypes.TryChoose(headers, out var request, out var answer, out var problem))
        {
            codec = new RequestRecordCodec(request, answer);
            refusal = null;
            return true;
        }
        codec = null;
        refusal = new RequestRefusal(RecordContentTypes.UnsupportedContentTypeCode, problem!);
        return false;
    }

    /// <summary>The decoded and validated request, or the dead letter's code and reason.</summary>
    public bool TryDecode(byte[]? value, [NotNullWhen(true)] out InferenceRequest? request, [NotNullWhen(false)] out RequestRefusal? refusal)
    {
        request = null;
        if (value is not { Length: > 0 })
        {
            refusal = Request == RecordEncoding.Json
                ? new RequestRefusal(InferenceErrorCode.InvalidJson.ToWireCode(), "The record has no value; expected an Open Inference Protocol v2 request body.")
                : new RequestRefusal(InvalidProtobufCode, "The record has no value; expected a protobuf inference.ModelInferRequest.");
            return false;
        }

        var json = value;
        if (Request == RecordEncoding.Protobuf)
        {
            ModelInferRequest message;
            try
            {
                message = ModelInferRequest.Parser.ParseFrom(value);
            }
            catch (InvalidProtocolBufferException e)
            {
                refusal = new RequestRefusal(InvalidProtobufCode, $"The record's {value.Length} bytes are not a protobuf inference.ModelInferRequest: {e.Message}");
                return false;
            }
            var (body, invalid) = InferRequestTranslator.ToJson(message);
            if (invalid is not null)
            {
                refusal = new RequestRefusal(invalid.WireCode, invalid.Message);
                return false;
            }
            json = body!;
            _rawOutputs = message.RawInputContents.Count > 0;
        }

        if (!InferenceCodec.TryDecodeRequest(json, out request, out var error))
        {
            refusal = new RequestRefusal(error.WireCode, error.Message);
            return false;
        }
        refusal = null;
        return true;
    }

    /// <summary>The prediction's value: the v2 response as JSON or as a protobuf ModelInferResponse.</summary>
    public byte[] EncodePrediction(string model, int version, InferenceRequest request, IReadOnlyList<Tensor> outputs) =>
        Answer == RecordEncoding.Json
            ? ServingRecords.Prediction(model, version, request, outputs)
            : InferResponseTranslator.From(ServingRecords.Response(model, version, request, outputs), _rawOutputs).ToByteArray();
}

/// <summary>
/// Why a request record becomes a dead letter (its <c>mlops-error-code</c> and <c>mlops-error</c>), and
/// what is known of the request by then (version and id once decoded).
/// </summary>
public sealed record RequestRefusal(string Code, string Reason, int? Version = null, string? RequestId = null);
