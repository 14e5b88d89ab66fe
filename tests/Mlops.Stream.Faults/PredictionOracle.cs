using System.Collections.Concurrent;
using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Faults;

/// <summary>What a model version should answer to a request, computed apart from the node that served it.</summary>
public interface IPredictionOracle
{
    /// <summary>The outputs of <paramref name="model"/> version <paramref name="version"/> for <paramref name="request"/>; throws when the request is refused.</summary>
    IReadOnlyList<Tensor> Predict(string model, int version, InferenceRequest request);
}

/// <summary>
/// Runs each request through ONNX Runtime directly, one request per run, on the model file the
/// registry holds for the version the prediction names: the node's batching, queues and Kafka
/// path play no part. Versions are loaded once and kept until <see cref="Dispose"/>.
/// </summary>
public sealed class RegistryOracle(IModelRegistry registry) : IPredictionOracle, IDisposable
{
    private readonly ConcurrentDictionary<(string Model, int Version), Lazy<OnnxModel>> _models = new();

    public IReadOnlyList<Tensor> Predict(string model, int version, InferenceRequest request)
    {
        var onnx = _models.GetOrAdd((model, version), key => new Lazy<OnnxModel>(
            () => OnnxModel.Load(registry.OpenVersionAsync(key.Model, key.Version).GetAwaiter().GetResult()))).Value;
        var outcome = onnx.Run([request])[0];
        return outcome.IsSuccess ? outcome.Outputs : throw new InvalidOperationException($"the model refuses the request: {outcome.Error.Message}");
    }

    public void Dispose()
    {
        foreach (var model in _models.Values.Where(m => m.IsValueCreated)) model.Value.Dispose();
    }
}
