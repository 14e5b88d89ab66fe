namespace Mlops.Stream.Cli;

/// <summary>
/// The node's rule for naming a new model (<c>ModelName</c> in the registry), restated because the
/// CLI speaks HTTP only: checking it here makes a bad name a usage error before an upload starts.
/// The node checks again; it is the authority.
/// </summary>
internal static class ModelNameRule
{
    public const int MaxLength = 64;

    public static string? Problem(string name) =>
        name.Length <= MaxLength && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? null
            : $"model name '{name}' is not valid: use letters, digits, '_' and '-', starting with a letter or digit, at most {MaxLength} characters " +
              "(no '.': the name is part of the model's Kafka topics)";
}
