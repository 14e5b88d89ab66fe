using Google.Protobuf;
using Mlops.Stream.Grpc.Protocol;

namespace Mlops.Stream.Grpc.Tests.Support;

/// <summary>gRPC infer requests for tests; <see cref="Typed"/> is the gRPC form of <c>V2.Request</c>.</summary>
public static class OipRequests
{
    /// <summary><c>{"id":"r1","inputs":[{"name":"features","shape":[1,2],"datatype":"FP32","data":[0.5,1.5]}]}</c> with typed contents.</summary>
    public static ModelInferRequest Typed(string model = "fraud", string version = "")
    {
        var input = Input("features", "FP32", 1, 2);
        input.Contents = new InferTensorContents { Fp32Contents = { 0.5f, 1.5f } };
        return Request(model, version, input);
    }

    /// <summary>The same request with its elements in raw_input_contents.</summary>
    public static ModelInferRequest Raw(string model = "fraud")
    {
        var request = Request(model, "", Input("features", "FP32", 1, 2));
        request.RawInputContents.Add(Bytes(BitConverter.GetBytes(0.5f), BitConverter.GetBytes(1.5f)));
        return request;
    }

    public static ModelInferRequest Request(string model, string version, params ModelInferRequest.Types.InferInputTensor[] inputs)
    {
        var request = new ModelInferRequest { ModelName = model, ModelVersion = version, Id = "r1" };
        request.Inputs.Add(inputs);
        return request;
    }

    public static ModelInferRequest.Types.InferInputTensor Input(string name, string datatype, params long[] shape)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype };
        input.Shape.Add(shape);
        return input;
    }

    /// <summary>Little-endian element bytes, one after another (BitConverter is little-endian on the machines this runs on).</summary>
    public static ByteString Bytes(params byte[][] elements) => ByteString.CopyFrom(elements.SelectMany(e => e).ToArray());
}
