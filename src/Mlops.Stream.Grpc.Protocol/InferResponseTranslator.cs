using Google.Protobuf;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Grpc.Protocol;

/// <summary>
/// Turns a served v2 response into a <see cref="ModelInferResponse"/>: the gateway's JSON answer on
/// the gRPC edge, the replica's own response on Kafka. Outputs come back the way the caller sent its
/// inputs: typed contents for typed inputs, raw_output_contents for raw ones (what Triton's and
/// KServe's clients that send raw bytes read back).
/// </summary>
public static class InferResponseTranslator
{
    public static ModelInferResponse FromJson(ReadOnlySpan<byte> servedJson, bool raw) =>
        From(InferenceCodec.DecodeResponse(servedJson), raw);

    public static ModelInferResponse From(InferenceResponse served, bool raw)
    {
        var response = new ModelInferResponse
        {
            Id = served.Id,
            ModelName = served.ModelName,
            ModelVersion = served.ModelVersion,
        };
        InferParameters.Read(served.Parameters, response.Parameters);
        foreach (var output in served.Outputs)
        {
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.DataType.ToWireName() };
            tensor.Shape.Add(output.Shape);
            InferParameters.Read(output.Parameters, tensor.Parameters);
            if (raw)
            {
                response.RawOutputContents.Add(ByteString.CopyFrom(RawTensorElements.Of(output)));
            }
            else
            {
                tensor.Contents = Typed(output);
            }
            response.Outputs.Add(tensor);
        }
        return response;
    }

    private static InferTensorContents Typed(Tensor tensor)
    {
        var contents = new InferTensorContents();
        switch (tensor.DataType)
        {
            case TensorDataType.Bool: contents.BoolContents.Add(tensor.Span<bool>().ToArray()); break;
            case TensorDataType.Int32: contents.IntContents.Add(tensor.Span<int>().ToArray()); break;
            case TensorDataType.Int64: contents.Int64Contents.Add(tensor.Span<long>().ToArray()); break;
            case TensorDataType.Fp32: contents.Fp32Contents.Add(tensor.Span<float>().ToArray()); break;
            case TensorDataType.Fp64: contents.Fp64Contents.Add(tensor.Span<double>().ToArray()); break;
        }
        return contents;
    }
}
