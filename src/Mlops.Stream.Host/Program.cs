using Mlops.Stream.Host;
using Mlops.Stream.Host.Drift;
using Mlops.Stream.Host.Kafka;
using Mlops.Stream.Host.Models;
using Mlops.Stream.Http;

if (args is [CreateDemoCommand.Verb, ..]) return await CreateDemoCommand.RunAsync(args);
if (args is [KafkaCommand.Verb, ..]) return await KafkaCommand.RunAsync(args);
if (args is [DriftCommand.Verb, ..]) return await DriftCommand.RunAsync(args);

return await HostRun.UntilStoppedAsync(args, builder => builder.AddMlopsStreaming(), app => app.MapMlopsApis());
