/** Every text the simulator shows a person, in Vietnamese and English (LANG=vi… picks Vietnamese). */
import { SCENARIO_DESCRIPTIONS, SCENARIO_NAMES } from './model/scenarios.js';

export type Language = 'vi' | 'en';

export function language(env: NodeJS.ProcessEnv = process.env): Language {
  return (env.CITY_LANG ?? env.LANG ?? '').toLowerCase().startsWith('vi') ? 'vi' : 'en';
}

const MESSAGES = {
  en: {
    usage: 'Usage: npm run sim -- [options]',
    intro: 'Runs the Da Nang demo fleet against the platform, or triggers a scenario on the running fleet.',
    options: [
      '  --scenario <name>     trigger a scenario on the running fleet',
      '  --speed <n>           simulated seconds per real second (default DEMO_SPEED or 1); above 1 the day plays from --start',
      '  --start <ISO time>    where simulated time begins (default: now, or 24 h ago when --speed > 1)',
      '  --seed <n>            the city is the same for the same seed (default SIM_SEED or 2025)',
      '  --backfill <days>     publish that many days of history through the platform, then exit',
      '  --history <months>    with --backfill: hourly history for the months before',
      '  --help                this text',
    ],
    scenarios: 'Scenarios:',
    provisioning: 'provisioning the fleet',
    running: 'demo fleet running',
    backfillRaw: 'history (raw)',
    backfillHourly: 'history (hourly)',
    backfillStored: 'history stored',
    noFleet: 'No demo fleet answers: start the platform with npm start (DEMO_FLEET=on) first.',
    backfillDelegated: 'The running demo fleet is writing the history through its own connections; its progress is in the platform log.',
    unknownScenario: (name: string) => `Unknown scenario "${name}". Scenarios: ${SCENARIO_NAMES.join(', ')}.`,
    fleetRunning: (port: number) =>
      `A demo fleet is already running (it answers on control port ${port}, usually the one npm start runs). Two fleets would knock each other's devices off: start the platform with DEMO_FLEET=off first, or use --scenario on the running one.`,
    controlPortBusy: (port: number) => `Control port ${port} is taken by another program: set SIM_CONTROL_PORT to a free port.`,
  },
  vi: {
    usage: 'Cách dùng: npm run sim -- [tùy chọn]',
    intro: 'Chạy đội thiết bị mô phỏng Đà Nẵng trên nền tảng, hoặc kích hoạt một kịch bản trên đội thiết bị đang chạy.',
    options: [
      '  --scenario <tên>      kích hoạt một kịch bản trên đội thiết bị đang chạy',
      '  --speed <n>           số giây mô phỏng cho mỗi giây thực (mặc định DEMO_SPEED hoặc 1); lớn hơn 1 thì phát lại từ --start',
      '  --start <thời điểm>   thời điểm bắt đầu mô phỏng (mặc định: bây giờ, hoặc 24 giờ trước khi --speed > 1)',
      '  --seed <n>            cùng một seed cho cùng một thành phố (mặc định SIM_SEED hoặc 2025)',
      '  --backfill <ngày>     gửi dữ liệu lịch sử của số ngày đó qua nền tảng rồi thoát',
      '  --history <tháng>     cùng --backfill: dữ liệu theo giờ cho các tháng trước đó',
      '  --help                hướng dẫn này',
    ],
    scenarios: 'Kịch bản:',
    provisioning: 'đang đăng ký đội thiết bị',
    running: 'đội thiết bị mô phỏng đang chạy',
    backfillRaw: 'dữ liệu lịch sử (thô)',
    backfillHourly: 'dữ liệu lịch sử (theo giờ)',
    backfillStored: 'dữ liệu lịch sử đã lưu',
    noFleet: 'Không có đội thiết bị mô phỏng nào trả lời: hãy khởi động nền tảng bằng npm start (DEMO_FLEET=on) trước.',
    backfillDelegated: 'Đội thiết bị mô phỏng đang chạy sẽ ghi dữ liệu lịch sử qua các kết nối của nó; tiến độ hiển thị trong nhật ký của nền tảng.',
    unknownScenario: (name: string) => `Không có kịch bản "${name}". Các kịch bản: ${SCENARIO_NAMES.join(', ')}.`,
    fleetRunning: (port: number) =>
      `Một đội thiết bị mô phỏng đang chạy (trả lời ở cổng điều khiển ${port}, thường là đội do npm start chạy). Hai đội sẽ đẩy kết nối thiết bị của nhau: hãy khởi động nền tảng với DEMO_FLEET=off trước, hoặc dùng --scenario với đội đang chạy.`,
    controlPortBusy: (port: number) => `Cổng điều khiển ${port} đang bị một chương trình khác dùng: hãy đặt SIM_CONTROL_PORT là một cổng trống.`,
  },
} as const;

export function messages(lang: Language = language()) {
  return MESSAGES[lang];
}

export function helpText(lang: Language = language()): string {
  const m = MESSAGES[lang];
  return [m.usage, '', m.intro, '', ...m.options, '', m.scenarios, ...SCENARIO_NAMES.map((name) => `  ${name.padEnd(12)} ${SCENARIO_DESCRIPTIONS[name][lang]}`), ''].join('\n');
}

/** An error a person must act on, in both languages (theirs first): it may reach someone who reads only the other. */
export function bilingual(pick: (m: (typeof MESSAGES)['en'] | (typeof MESSAGES)['vi']) => string, lang: Language = language()): string {
  const other: Language = lang === 'vi' ? 'en' : 'vi';
  return `${pick(MESSAGES[lang])}\n${pick(MESSAGES[other])}\n`;
}
