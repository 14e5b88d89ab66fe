using Mlops.Stream.Inference.Onnx;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Inference.Registry.Internal;

/// <summary>The folder registry's checks of what it stores and what it opens.</summary>
internal static class VersionChecks
{
    /// <summary>Reads a file of the registry; a missing one is a <see cref="ModelRegistryError.NotFound"/> naming it.</summary>
    public static async Task<T> ReadOrNotFoundAsync<T>(string path, Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelRegistryException(ModelRegistryError.NotFound, $"{path}: file is missing", e);
        }
    }

    /// <summary>The model file must have the manifest's sha256, load in ONNX Runtime, and have the manifest's signature.</summary>
    public static void Verify(ModelManifest manifest, string modelPath, string sha256, Func<ModelSignature> readSignature)
    {
        if (!string.Equals(sha256, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelRegistryException(
                ModelRegistryError.ChecksumMismatch,
                $"{modelPath}: sha256 is {sha256} but {FolderModelRegistry.ManifestFileName} records {manifest.Sha256}; the file was changed or corrupted");
        }

        ModelSignature actual;
        try
        {
            actual = readSignature();
        }
        catch (ModelLoadException e)
        {
            throw new ModelRegistryException(ModelRegistryError.Corrupt, e.Message, e);
        }

        if (manifest.Signature.Differences(actual) is { Count: > 0 } differences)
        {
            throw new ModelRegistryException(
                ModelRegistryError.SignatureMismatch,
                $"{Path.Combine(Path.GetDirectoryName(modelPath)!, FolderModelRegistry.ManifestFileName)} does not match {FolderModelRegistry.ModelFileName}: {string.Join("; ", differences)}");
        }
    }

    /// <summary>
    /// A registration with a reference sample takes its reference profile (and, when it declares
    /// none, its feature names) from the sample, once the sample is checked against the model's
    /// <paramref name="signature"/>; one without is returned as it is.
    /// </summary>
    public static ModelRegistration WithReference(ModelRegistration registration, ModelSignature signature)
    {
        if (registration.ReferenceSample is not { } sample) return registration;
        if (sample.ProblemFor(signature, registration.FeatureNames) is { } problem)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"model '{registration.Model}': the reference sample does not fit the model: {problem}");
        }

        return registration with
        {
            ReferenceProfile = sample.Profile(),
            FeatureNames = registration.FeatureNames.IsDefaultOrEmpty ? sample.Features : registration.FeatureNames,
        };
    }

    public static void CheckRegistration(ModelRegistration registration)
    {
        if (ModelName.Problem(registration.Model) is { } problem)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, problem);
        }

        if (registration.Version is <= 0)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"version must be positive, was {registration.Version}");
        }
    }

    /// <summary>The model loads, has the declared signature (if one was declared), and its sample request fits it; returns its signature.</summary>
    public static ModelSignature CheckModel(ModelRegistration registration, string modelPath)
    {
        var label = $"model '{registration.Model}' being registered";
        ModelSignature actual;
        try
        {
            actual = OnnxSignature.Read(modelPath, label);
        }
        catch (ModelLoadException e)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, e.Message, e);
        }

        if (registration.Signature is { } declared && declared.Differences(actual) is { Count: > 0 } differences)
        {
            throw new ModelRegistryException(
                ModelRegistryError.SignatureMismatch, $"{label}: declared signature differs from the model's: {string.Join("; ", differences)}");
        }

        if (registration.SampleRequest is { } sample && RequestValidator.Validate(sample, actual, NonFinitePolicy.Reject) is { } error)
        {
            throw new ModelRegistryException(ModelRegistryError.Invalid, $"{label}: the sample request does not fit the model: {error}");
        }

        return actual;
    }
}
