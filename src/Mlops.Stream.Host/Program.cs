using Mlops.Stream.Host;
using Mlops.Stream.Host.Drift;
using Mlops.Stream.Host.Kafka;
using Mlops.Stream.Host.Models;
using Mlops.Stream.Host.Options;
using Mlops.Stream.Http;

if (args is [CreateDemoCommand.Verb, ..]) return await CreateDemoCommand.RunAsync(args);
if (args is [KafkaCommand.Verb, ..]) return await KafkaCommand.RunAsync(args);
if (args is [DriftCommand.Verb, ..]) return await DriftCommand.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);
WebApplication? app = null;
try
{
    builder.AddMlopsStreaming();
    app = builder.Build();
    app.MapMlopsApis();
    await app.StartAsync();
}
catch (Exception e) when (ConfigurationErrors.From(e, app?.Services) is { } errors)
{
    // A bad setting is the operator's to fix: one line naming the key, exit code 2, no stack trace.
    ConfigurationErrors.Write(errors, Console.Error);
    if (app is not null) await app.StopAfterFailedStartAsync();
    return ConfigurationErrors.ExitCode;
}

await app.WaitForShutdownAsync();
await app.DisposeAsync();
return 0;
