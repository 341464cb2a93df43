/**
 * Everything the `devices` CLI says, in English and Vietnamese: operators in the city's operations
 * centre work in either. Chosen by `CITY_LANG`, else `LANG`; English unless it starts with `vi`.
 */
import { DEVICE_KINDS } from './kinds.js';
import type { RegistryErrorCode } from './registry.js';

/** What the operator typed, for messages that explain a refusal. */
export interface ErrorContext {
  id?: string | undefined;
  kind?: string | undefined;
  lon?: number | undefined;
  lat?: number | undefined;
  zone?: string | undefined;
}

export interface CliMessages {
  help: string;
  added(id: string, kind: string, zone: string): string;
  rotated(id: string): string;
  secret(secret: string): string;
  secretShownOnce(id: string): string;
  removed(id: string): string;
  noDevices: string;
  deviceColumns: { id: string; kind: string; zone: string; lon: string; lat: string; name: string; created: string };
  zoneColumns: { id: string; name: string };
  missingCommand: string;
  unknownCommand(command: string): string;
  missingId(command: string): string;
  extraArguments(args: string): string;
  missingOption(option: string): string;
  notANumber(option: string, value: string): string;
  optionNotAllowed(option: string, command: string): string;
  badArguments(detail: string): string;
  seeHelp: string;
  errors: Record<RegistryErrorCode, (context: ErrorContext) => string>;
  zonesFailed(detail: string): string;
  registryFailed(path: string, detail: string): string;
  failed(detail: string): string;
}

const kinds = DEVICE_KINDS.join(', ');

export const en: CliMessages = {
  help: `Manage the devices of the city operations platform.

Usage: npm run devices -- <command> [options]

Commands:
  add <id> --kind <kind> --lon <x> --lat <y> [--name <text>] [--zone <zone>] [--json]
                         register a device and print its secret (shown only once)
  list [--kind <kind>] [--zone <zone>] [--json]
                         list the devices
  rotate <id> [--json]   issue a new secret; the old one stops working at the next connection
  remove <id>            remove a device
  zones [--json]         list the zones a location can fall in
  --help                 show this help

Kinds: ${kinds}
Longitude comes first: central Da Nang is about --lon 108.22 --lat 16.05.
Write negative values with "=": --lon=-73.98.

Environment:
  DATA_DIR     where the registry is kept (default ./data; the file is $DATA_DIR/registry.db)
  ZONES_FILE   GeoJSON FeatureCollection of the city's zones (default: Da Nang's districts)
  CITY_LANG    vi or en (otherwise taken from LANG)
`,
  added: (id, kind, zone) => `Added device ${id} (${kind}) in zone ${zone}.`,
  rotated: (id) => `Issued a new secret for ${id}; the old one stops working at the device's next connection.`,
  secret: (secret) => `Secret: ${secret}`,
  secretShownOnce: (id) =>
    `Store the secret now: it will not be shown again. The device connects with client id and user name "${id}" and the secret as password.`,
  removed: (id) => `Removed device ${id}.`,
  noDevices: 'No devices.',
  deviceColumns: { id: 'ID', kind: 'KIND', zone: 'ZONE', lon: 'LON', lat: 'LAT', name: 'NAME', created: 'CREATED (UTC)' },
  zoneColumns: { id: 'ID', name: 'NAME' },
  missingCommand: 'No command given.',
  unknownCommand: (command) => `Unknown command "${command}".`,
  missingId: (command) => `"${command}" needs a device id.`,
  extraArguments: (args) => `Unexpected arguments: ${args}.`,
  missingOption: (option) => `--${option} is required.`,
  notANumber: (option, value) => `--${option} must be a number, not "${value}".`,
  optionNotAllowed: (option, command) => `--${option} does not apply to "${command}".`,
  badArguments: (detail) => `Invalid arguments: ${detail}`,
  seeHelp: 'Run "npm run devices -- --help" for usage.',
  errors: {
    invalid_id: ({ id }) => `"${id}" is not a valid device id: 1–64 characters of A–Z a–z 0–9 _ . -, starting with a letter or digit.`,
    invalid_kind: ({ kind }) => `Unknown kind "${kind}". Kinds: ${kinds}.`,
    invalid_location: ({ lon, lat }) => `Location lon=${lon}, lat=${lat} is not valid: lon must be within -180..180 and lat within -90..90 (longitude comes first: are --lon and --lat swapped?).`,
    outside_zones: ({ lon, lat }) =>
      `Location lon=${lon}, lat=${lat} is outside every zone of the city. Longitude comes first: check that --lon and --lat are not swapped, or name the zone with --zone <zone> ("zones" lists them).`,
    unknown_zone: ({ zone }) => `Zone "${zone}" does not exist; "zones" lists the zones.`,
    invalid_attributes: () => 'Invalid attributes: names are a letter then letters, digits or _; values are numbers, booleans or short texts.',
    duplicate: ({ id }) => `Device ${id} already exists; "rotate ${id}" issues it a new secret.`,
    not_found: ({ id }) => `Device ${id} does not exist.`,
  },
  zonesFailed: (detail) => `Could not load the zones: ${detail}`,
  registryFailed: (path, detail) => `Could not open the device registry ${path}: ${detail}`,
  failed: (detail) => `Failed: ${detail}`,
};

export const vi: CliMessages = {
  help: `Quản lý thiết bị của nền tảng vận hành đô thị.

Cách dùng: npm run devices -- <lệnh> [tùy chọn]

Lệnh:
  add <id> --kind <loại> --lon <kinh độ> --lat <vĩ độ> [--name <tên>] [--zone <khu vực>] [--json]
                         đăng ký thiết bị và in khóa bí mật (chỉ hiện một lần)
  list [--kind <loại>] [--zone <khu vực>] [--json]
                         liệt kê thiết bị
  rotate <id> [--json]   cấp khóa bí mật mới; khóa cũ hết hiệu lực từ lần kết nối tiếp theo
  remove <id>            xóa thiết bị
  zones [--json]         liệt kê các khu vực mà một vị trí có thể thuộc về
  --help                 hiện hướng dẫn này

Các loại thiết bị: ${kinds}
Kinh độ đứng trước: trung tâm Đà Nẵng khoảng --lon 108.22 --lat 16.05.
Giá trị âm viết kèm dấu "=": --lon=-73.98.

Biến môi trường:
  DATA_DIR     thư mục chứa sổ đăng ký thiết bị (mặc định ./data; tệp là $DATA_DIR/registry.db)
  ZONES_FILE   tệp GeoJSON FeatureCollection các khu vực của thành phố (mặc định: các quận/huyện của Đà Nẵng)
  CITY_LANG    vi hoặc en (nếu không có, lấy theo LANG)
`,
  added: (id, kind, zone) => `Đã thêm thiết bị ${id} (${kind}) tại khu vực ${zone}.`,
  rotated: (id) => `Đã cấp khóa bí mật mới cho ${id}; khóa cũ hết hiệu lực từ lần kết nối tiếp theo của thiết bị.`,
  secret: (secret) => `Khóa bí mật: ${secret}`,
  secretShownOnce: (id) =>
    `Hãy lưu khóa bí mật ngay: khóa sẽ không được hiển thị lại. Thiết bị kết nối với client id và user name "${id}", mật khẩu là khóa bí mật.`,
  removed: (id) => `Đã xóa thiết bị ${id}.`,
  noDevices: 'Không có thiết bị nào.',
  deviceColumns: { id: 'MÃ', kind: 'LOẠI', zone: 'KHU VỰC', lon: 'KINH ĐỘ', lat: 'VĨ ĐỘ', name: 'TÊN', created: 'NGÀY TẠO (UTC)' },
  zoneColumns: { id: 'MÃ', name: 'TÊN' },
  missingCommand: 'Chưa nhập lệnh.',
  unknownCommand: (command) => `Lệnh không hợp lệ: "${command}".`,
  missingId: (command) => `Lệnh "${command}" cần mã thiết bị.`,
  extraArguments: (args) => `Tham số thừa: ${args}.`,
  missingOption: (option) => `Thiếu --${option}.`,
  notANumber: (option, value) => `--${option} phải là một số, không phải "${value}".`,
  optionNotAllowed: (option, command) => `--${option} không dùng được với lệnh "${command}".`,
  badArguments: (detail) => `Tham số không hợp lệ: ${detail}`,
  seeHelp: 'Xem hướng dẫn: npm run devices -- --help',
  errors: {
    invalid_id: ({ id }) => `"${id}" không phải mã thiết bị hợp lệ: 1–64 ký tự A–Z a–z 0–9 _ . -, bắt đầu bằng chữ cái hoặc chữ số.`,
    invalid_kind: ({ kind }) => `Loại thiết bị không hợp lệ: "${kind}". Các loại: ${kinds}.`,
    invalid_location: ({ lon, lat }) =>
      `Vị trí lon=${lon}, lat=${lat} không hợp lệ: kinh độ phải trong khoảng -180..180 và vĩ độ trong khoảng -90..90 (kinh độ đứng trước: --lon và --lat có bị đảo ngược không?).`,
    outside_zones: ({ lon, lat }) =>
      `Vị trí lon=${lon}, lat=${lat} nằm ngoài mọi khu vực của thành phố. Kinh độ đứng trước: hãy kiểm tra --lon và --lat có bị đảo ngược không, hoặc chỉ định khu vực bằng --zone <khu vực> (lệnh "zones" liệt kê các khu vực).`,
    unknown_zone: ({ zone }) => `Khu vực "${zone}" không tồn tại; lệnh "zones" liệt kê các khu vực.`,
    invalid_attributes: () => 'Thuộc tính không hợp lệ: tên bắt đầu bằng chữ cái, gồm chữ, số hoặc _; giá trị là số, đúng/sai hoặc chuỗi ngắn.',
    duplicate: ({ id }) => `Thiết bị ${id} đã tồn tại; lệnh "rotate ${id}" cấp khóa bí mật mới cho thiết bị.`,
    not_found: ({ id }) => `Thiết bị ${id} không tồn tại.`,
  },
  zonesFailed: (detail) => `Không tải được các khu vực: ${detail}`,
  registryFailed: (path, detail) => `Không mở được sổ đăng ký thiết bị ${path}: ${detail}`,
  failed: (detail) => `Lỗi: ${detail}`,
};

export function messagesFor(env: NodeJS.ProcessEnv = process.env): CliMessages {
  const language = env.CITY_LANG || env.LANG || '';
  return language.toLowerCase().startsWith('vi') ? vi : en;
}
