using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Inference.Registry;
using Mlops.Stream.Kafka.Topics;

namespace Mlops.Stream.Host.Models;

/// <summary>
/// Refuses to start on a registry whose model names break <see cref="ModelName"/>'s rule or whose
/// models' Kafka topics collide (<c>fraud-demo.dlq</c> beside <c>fraud-demo</c>: its request topic
/// is fraud-demo's dead-letter topic), since serving them would mix two models' records. New names
/// are refused at registration; this catches registries written before the rule, or by hand. A
/// validator of the <c>Registry</c> section, so the node stops at start with a message naming the key.
/// </summary>
public sealed class RegistryModelNamesValidator(TopicCatalog topics) : IValidateOptions<RegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, RegistryOptions options)
    {
        IReadOnlyList<string> models;
        try
        {
            // The folder registry lists synchronously; nothing here waits on I/O completion ports.
            models = new FolderModelRegistry(options.FullPath).ListModelsAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ValidateOptionsResult.Skip;   // an unreadable folder is the registry path's own problem, reported where it is opened
        }

        var problems = models.Select(ModelName.Problem).OfType<string>()
            .Concat(TopicCollisions.Find(topics, models).Select(c => c.ToString()))
            .ToList();
        return problems.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{RegistryOptions.Section}:{nameof(RegistryOptions.Path)} '{options.FullPath}' holds models the node cannot serve: " +
                $"{string.Join("; ", problems)}. Rename or remove those model folders (model names: {ModelName.Rule}).");
    }
}
