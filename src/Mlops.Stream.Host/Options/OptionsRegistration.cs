using Microsoft.Extensions.Options;

namespace Mlops.Stream.Host.Options;

/// <summary>Binds option classes to their section and validates them when the host starts, not at first use.</summary>
internal static class OptionsRegistration
{
    public static IServiceCollection AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return services;
    }

    /// <summary>
    /// Binds and validates options needed while the host is still being composed (before
    /// <c>ValidateOnStart</c> could run), failing with the same messages.
    /// </summary>
    public static TOptions BindValidatedNow<TOptions, TValidator>(this IConfiguration configuration, string section)
        where TOptions : class, new()
        where TValidator : IValidateOptions<TOptions>, new()
    {
        var options = configuration.GetSection(section).Get<TOptions>() ?? new TOptions();
        var result = new TValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(TOptions), result.Failures);
        }
        return options;
    }
}
