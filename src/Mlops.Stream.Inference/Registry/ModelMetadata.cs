using System.Collections.Immutable;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Registry;

/// <summary>
/// What a model's owner says about it beside the ONNX file: declared in a <see cref="ModelRegistration"/>
/// and kept as it is in the version's <see cref="ModelManifest"/>.
/// </summary>
public abstract record ModelMetadata
{
    /// <summary>Names of the columns of the (single) feature input, in column order.</summary>
    public ImmutableArray<string> FeatureNames { get; init; } = [];

    /// <summary>Class labels in the order of the probability columns.</summary>
    public ImmutableArray<string> Labels { get; init; } = [];

    public BatchingHints Batching { get; init; } = BatchingHints.Default;

    /// <summary>Per-feature histograms of the reference (training) data, the baseline for drift.</summary>
    public ImmutableArray<FeatureProfile> ReferenceProfile { get; init; } = [];

    /// <summary>A valid v2 request, used to warm the model up before it takes traffic.</summary>
    public InferenceRequest? SampleRequest { get; init; }

    public string? Description { get; init; }
}
