using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Onnx;

/// <summary>
/// One loaded, ready model version: the narrow surface the batcher, actors and HTTP edge use,
/// so no caller sees ONNX Runtime types. Implementations are thread-safe for <see cref="Run"/>
/// and <see cref="Validate"/>; the owner disposes only after in-flight runs have finished.
/// </summary>
public interface IInferenceModel : IDisposable
{
    string Name { get; }

    /// <summary>Registry version number; responses carry it as the v2 "model_version" string.</summary>
    int Version { get; }

    ModelSignature Signature { get; }

    /// <summary>The device the model actually runs on (never <see cref="ExecutionDevice.Auto"/>).</summary>
    ExecutionDevice Device { get; }

    /// <summary>Checks one request against the signature; call before enqueueing it for a batch.</summary>
    InferenceError? Validate(InferenceRequest request);

    /// <summary>
    /// Runs a batch: each request is validated, the valid ones are stacked along the batch axis into
    /// one tensor per input and run once, and the outputs are split back per request. The result has
    /// one outcome per request, in order. Throws only when the model run itself fails.
    /// </summary>
    IReadOnlyList<InferenceOutcome> Run(IReadOnlyList<InferenceRequest> batch);

    /// <summary>Runs the manifest's sample request (or zeros) once; throws <see cref="ModelLoadException"/> if it fails.</summary>
    TimeSpan WarmUp();
}
