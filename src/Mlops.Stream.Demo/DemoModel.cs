using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Demo;

/// <summary>Everything <see cref="DemoModelBuilder.Build"/> produces, before anything is registered.</summary>
public sealed record DemoModel(
    byte[] OnnxModel,
    MlpClassifier Classifier,
    FraudDataset Training,
    FraudDataset HoldOut,
    double HoldOutAuc,
    InferenceRequest SampleRequest,
    ModelRegistration Registration)
{
    public string Sha256 => ModelManifest.Sha256Of(OnnxModel);

    /// <summary>The sample request as a v2 JSON body (what a producer would put on the requests topic).</summary>
    public byte[] SampleRequestJson => InferenceCodec.EncodeRequest(SampleRequest);
}
