/**
 * Builds the demo city's GeoJSON (roads.geojson, water.geojson, placements.geojson) from the hand-drawn
 * tables below. Run it again after changing them:  npx tsx simulators/data/build-city.ts
 * The geometry is the project's own, drawn from general knowledge of Da Nang's streets: approximate but
 * recognisable. Zones come from the district boundaries in devices/data/geo by point-in-polygon; the
 * district data was used only to check the drawing (which bank, which district), not traced. The build
 * is deterministic (no randomness): the same tables always give the same files, which
 * simulators/test/data.test.ts checks (zones, bridges across the river, sensors on their segments).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadZones, type DeviceKind } from '@city/devices';

type Point = [number, number];
type RoadKind = 'bridge' | 'arterial' | 'coastal' | 'street';

interface Street {
  id: string;
  name: string;
  nameEn: string;
  kind: RoadKind;
  lanes: number;
  speedLimit: number;
  /** Vertices; the street is cut into `segments` parts of about equal length. */
  path: Point[];
  segments: number;
}

/*
 * The streets, west to east and south to north. Where the brief's anchor points and the district
 * boundaries in devices/data/geo disagree (the Hàn south of Cầu Nguyễn Văn Trỗi bends east: its
 * mid-line, the Hải Châu boundary, is at ≈108.2325 by Cầu Trần Thị Lý and ≈108.236 by Cầu Tiên Sơn),
 * the bridges are drawn long enough to reach the east bank and the east-bank streets start there.
 */
const STREETS: Street[] = [
  // Bridges over the Hàn, south to north (each one segment; long ones include their approach ramps).
  { id: 'cau-tien-son', name: 'Cầu Tiên Sơn', nameEn: 'Tien Son Bridge', kind: 'bridge', lanes: 6, speedLimit: 60, segments: 1, path: [[108.2246, 16.0386], [108.2300, 16.0379], [108.2420, 16.0342]] },
  { id: 'cau-tran-thi-ly', name: 'Cầu Trần Thị Lý', nameEn: 'Tran Thi Ly Bridge', kind: 'bridge', lanes: 6, speedLimit: 50, segments: 1, path: [[108.2262, 16.0482], [108.2378, 16.0445]] },
  { id: 'cau-nguyen-van-troi', name: 'Cầu Nguyễn Văn Trỗi', nameEn: 'Nguyen Van Troi Bridge', kind: 'bridge', lanes: 2, speedLimit: 40, segments: 1, path: [[108.2242, 16.0538], [108.2316, 16.0528]] },
  { id: 'cau-rong', name: 'Cầu Rồng', nameEn: 'Dragon Bridge', kind: 'bridge', lanes: 6, speedLimit: 50, segments: 1, path: [[108.2236, 16.06112], [108.2305, 16.06128]] },
  { id: 'cau-song-han', name: 'Cầu Sông Hàn', nameEn: 'Han River Bridge', kind: 'bridge', lanes: 4, speedLimit: 40, segments: 1, path: [[108.2241, 16.07205], [108.2301, 16.07182]] },
  { id: 'cau-thuan-phuoc', name: 'Cầu Thuận Phước', nameEn: 'Thuan Phuoc Bridge', kind: 'bridge', lanes: 4, speedLimit: 60, segments: 1, path: [[108.2150, 16.0890], [108.2180, 16.0930], [108.2238, 16.0957], [108.2290, 16.0980]] },
  // Hải Châu, west bank.
  { id: 'bach-dang', name: 'Bạch Đằng', nameEn: 'Bach Dang Street', kind: 'arterial', lanes: 4, speedLimit: 40, segments: 3, path: [[108.2262, 16.0482], [108.2250, 16.0510], [108.2242, 16.0538], [108.2240, 16.0570], [108.2236, 16.06112], [108.2240, 16.0680], [108.2241, 16.07205], [108.2234, 16.0780], [108.2222, 16.0830]] },
  { id: 'tran-phu', name: 'Trần Phú', nameEn: 'Tran Phu Street', kind: 'street', lanes: 2, speedLimit: 40, segments: 3, path: [[108.2219, 16.0480], [108.2221, 16.0560], [108.2219, 16.0640], [108.2216, 16.0720], [108.2211, 16.0790]] },
  { id: 'nguyen-van-linh', name: 'Nguyễn Văn Linh', nameEn: 'Nguyen Van Linh Street', kind: 'arterial', lanes: 6, speedLimit: 50, segments: 2, path: [[108.2045, 16.0590], [108.2120, 16.0598], [108.2180, 16.0605], [108.2236, 16.06112]] },
  { id: 'le-duan', name: 'Lê Duẩn', nameEn: 'Le Duan Street', kind: 'arterial', lanes: 4, speedLimit: 40, segments: 2, path: [[108.2241, 16.07205], [108.2195, 16.0716], [108.2150, 16.0707], [108.2105, 16.0692], [108.2058, 16.0672]] },
  { id: 'hung-vuong', name: 'Hùng Vương', nameEn: 'Hung Vuong Street', kind: 'street', lanes: 2, speedLimit: 40, segments: 2, path: [[108.2240, 16.0686], [108.2195, 16.0680], [108.2150, 16.0674], [108.2118, 16.0671], [108.2085, 16.0668]] },
  { id: 'hai-thang-chin', name: '2 Tháng 9', nameEn: '2 September Street', kind: 'arterial', lanes: 6, speedLimit: 50, segments: 3, path: [[108.2262, 16.0482], [108.2250, 16.0440], [108.2246, 16.0386], [108.2242, 16.0330], [108.2234, 16.0250], [108.2228, 16.0200], [108.2215, 16.0120]] },
  { id: 'nguyen-huu-tho', name: 'Nguyễn Hữu Thọ', nameEn: 'Nguyen Huu Tho Street', kind: 'arterial', lanes: 4, speedLimit: 50, segments: 2, path: [[108.2045, 16.0590], [108.2080, 16.0548], [108.2110, 16.0500], [108.2132, 16.0450], [108.2150, 16.0400]] },
  { id: 'cach-mang-thang-tam', name: 'Cách Mạng Tháng Tám', nameEn: 'Cach Mang Thang Tam Street', kind: 'arterial', lanes: 4, speedLimit: 50, segments: 2, path: [[108.2150, 16.0400], [108.2105, 16.0350], [108.2060, 16.0300], [108.2010, 16.0252], [108.1960, 16.0200]] },
  // West: Thanh Khê, Liên Chiểu, Cẩm Lệ.
  { id: 'dien-bien-phu', name: 'Điện Biên Phủ', nameEn: 'Dien Bien Phu Street', kind: 'arterial', lanes: 6, speedLimit: 50, segments: 3, path: [[108.2058, 16.0672], [108.1950, 16.0662], [108.1850, 16.0647], [108.1760, 16.0628], [108.1700, 16.0612]] },
  { id: 'ton-duc-thang', name: 'Tôn Đức Thắng', nameEn: 'Ton Duc Thang Street (National Route 1A)', kind: 'arterial', lanes: 6, speedLimit: 60, segments: 3, path: [[108.1700, 16.0612], [108.1630, 16.0640], [108.1560, 16.0680], [108.1490, 16.0720], [108.1420, 16.0760]] },
  { id: 'truong-chinh', name: 'Trường Chinh', nameEn: 'Truong Chinh Street (National Route 1A)', kind: 'arterial', lanes: 6, speedLimit: 60, segments: 3, path: [[108.1700, 16.0612], [108.1708, 16.0556], [108.1720, 16.0500], [108.1738, 16.0440], [108.1760, 16.0380], [108.1780, 16.0330], [108.1800, 16.0280]] },
  { id: 'nguyen-tat-thanh', name: 'Nguyễn Tất Thành', nameEn: 'Nguyen Tat Thanh Street', kind: 'coastal', lanes: 6, speedLimit: 60, segments: 5, path: [[108.2150, 16.0890], [108.2110, 16.0860], [108.2060, 16.0780], [108.2000, 16.0722], [108.1900, 16.0712], [108.1800, 16.0735], [108.1700, 16.0780], [108.1600, 16.0830], [108.1500, 16.0890]] },
  // East bank: Sơn Trà, Ngũ Hành Sơn.
  { id: 'tran-hung-dao', name: 'Trần Hưng Đạo', nameEn: 'Tran Hung Dao Street', kind: 'street', lanes: 4, speedLimit: 40, segments: 3, path: [[108.2348, 16.0493], [108.2320, 16.0530], [108.2305, 16.06128], [108.2301, 16.07182], [108.2298, 16.0800]] },
  { id: 'ngo-quyen', name: 'Ngô Quyền', nameEn: 'Ngo Quyen Street', kind: 'arterial', lanes: 4, speedLimit: 50, segments: 4, path: [[108.2378, 16.0445], [108.2356, 16.0500], [108.2346, 16.0550], [108.2348, 16.0625], [108.2346, 16.0700], [108.2349, 16.0775], [108.2352, 16.0850], [108.2375, 16.0905], [108.2400, 16.0960]] },
  { id: 'nguyen-van-thoai', name: 'Nguyễn Văn Thoại', nameEn: 'Nguyen Van Thoai Street', kind: 'street', lanes: 4, speedLimit: 40, segments: 2, path: [[108.2316, 16.0528], [108.2360, 16.0531], [108.2400, 16.0530], [108.2440, 16.0528], [108.2478, 16.0525]] },
  { id: 'vo-van-kiet', name: 'Võ Văn Kiệt', nameEn: 'Vo Van Kiet Street', kind: 'arterial', lanes: 6, speedLimit: 50, segments: 2, path: [[108.2305, 16.06128], [108.2346, 16.0613], [108.2390, 16.0612], [108.2425, 16.0609], [108.2455, 16.0605]] },
  { id: 'pham-van-dong', name: 'Phạm Văn Đồng', nameEn: 'Pham Van Dong Street', kind: 'arterial', lanes: 6, speedLimit: 50, segments: 2, path: [[108.2301, 16.07182], [108.2346, 16.0719], [108.2380, 16.0719], [108.2415, 16.0720], [108.2450, 16.0720]] },
  { id: 'vo-nguyen-giap', name: 'Võ Nguyên Giáp', nameEn: 'Vo Nguyen Giap Beach Road', kind: 'coastal', lanes: 6, speedLimit: 60, segments: 6, path: [[108.2490, 16.0950], [108.2462, 16.0800], [108.2450, 16.0700], [108.2455, 16.0600], [108.2480, 16.0500], [108.2515, 16.0400], [108.2560, 16.0300], [108.2605, 16.0200], [108.2650, 16.0100], [108.2700, 16.0000]] },
  { id: 'le-van-hien', name: 'Lê Văn Hiến', nameEn: 'Le Van Hien Street', kind: 'arterial', lanes: 4, speedLimit: 50, segments: 3, path: [[108.2420, 16.0342], [108.2450, 16.0280], [108.2485, 16.0180], [108.2530, 16.0060], [108.2570, 15.9960]] },
];

/** The Hàn as its two banks, south (the Cẩm Lệ – Vĩnh Điện confluence) to north (the bay). */
const HAN_WEST_BANK: Point[] = [[108.2318, 16.0265], [108.2318, 16.0300], [108.2332, 16.0350], [108.2316, 16.0400], [108.2302, 16.0450], [108.2290, 16.0475], [108.2272, 16.0500], [108.2251, 16.0535], [108.2246, 16.0570], [108.2243, 16.0612], [108.2246, 16.0650], [108.2246, 16.0720], [108.2243, 16.0750], [108.2237, 16.0800], [108.2228, 16.0840], [108.2210, 16.0880], [108.2192, 16.0925], [108.2178, 16.0950], [108.2165, 16.0990]];
const HAN_EAST_BANK: Point[] = [[108.2380, 16.0265], [108.2384, 16.0300], [108.2396, 16.0350], [108.2380, 16.0400], [108.2366, 16.0450], [108.2356, 16.0475], [108.2336, 16.0500], [108.2310, 16.0535], [108.2302, 16.0570], [108.2300, 16.0612], [108.2297, 16.0650], [108.2296, 16.0720], [108.2295, 16.0750], [108.2292, 16.0800], [108.2280, 16.0840], [108.2266, 16.0880], [108.2262, 16.0925], [108.2240, 16.0955], [108.2232, 16.1000]];

const WATER = [
  {
    name: 'Sông Hàn',
    nameEn: 'Han River',
    kind: 'river',
    polygon: [...HAN_WEST_BANK, ...[...HAN_EAST_BANK].reverse(), HAN_WEST_BANK[0] as Point],
  },
];
const COAST = [
  { name: 'Vịnh Đà Nẵng', nameEn: 'Da Nang Bay', kind: 'coast', line: [[108.1250, 16.1230], [108.1350, 16.1080], [108.1400, 16.1015], [108.1500, 16.0920], [108.1600, 16.0850], [108.1700, 16.0800], [108.1800, 16.0757], [108.1900, 16.0730], [108.2000, 16.0740], [108.2050, 16.0795], [108.2100, 16.0895], [108.2125, 16.0950], [108.2165, 16.0975]] as Point[] },
  { name: 'Bãi biển Mỹ Khê – Non Nước', nameEn: 'My Khe – Non Nuoc beach', kind: 'coast', line: [[108.2600, 16.1005], [108.2530, 16.0950], [108.2504, 16.0900], [108.2480, 16.0800], [108.2466, 16.0700], [108.2474, 16.0600], [108.2498, 16.0500], [108.2534, 16.0400], [108.2578, 16.0300], [108.2624, 16.0200], [108.2670, 16.0100], [108.2720, 16.0000], [108.2770, 15.9900], [108.2824, 15.9800]] as Point[] },
];

interface Station {
  id: string;
  name: string;
  nameEn: string;
  at: Point;
  extra?: Record<string, unknown>;
}

const AIR: Station[] = [
  { id: 'dn-aq-dhsp', name: 'Trạm quốc gia – Trường ĐH Sư phạm Đà Nẵng', nameEn: 'National station – University of Education', at: [108.1594, 16.0622], extra: { official: true } },
  { id: 'dn-aq-son-tra', name: 'Trạm quốc gia – Sơn Trà / Ngũ Hành Sơn', nameEn: 'National station – Son Tra / Ngu Hanh Son', at: [108.2647, 16.0034], extra: { official: true } },
  { id: 'dn-aq-cho-han', name: 'Chợ Hàn', nameEn: 'Han Market', at: [108.2228, 16.0685] },
  { id: 'dn-aq-nga-ba-hue', name: 'Ngã ba Huế', nameEn: 'Hue Junction', at: [108.1712, 16.0625] },
  { id: 'dn-aq-hoa-khanh', name: 'KCN Hòa Khánh', nameEn: 'Hoa Khanh Industrial Park', at: [108.1480, 16.0700] },
  { id: 'dn-aq-tien-sa', name: 'Cảng Tiên Sa', nameEn: 'Tien Sa Port', at: [108.2250, 16.1200] },
  { id: 'dn-aq-cong-vien-29-3', name: 'Công viên 29/3', nameEn: '29 March Park', at: [108.2030, 16.0640] },
  { id: 'dn-aq-san-bay', name: 'Sân bay Đà Nẵng', nameEn: 'Da Nang Airport', at: [108.2070, 16.0560] },
  { id: 'dn-aq-my-khe', name: 'Bãi biển Mỹ Khê', nameEn: 'My Khe Beach', at: [108.2445, 16.0660] },
  { id: 'dn-aq-hoa-xuan', name: 'Hòa Xuân', nameEn: 'Hoa Xuan', at: [108.2250, 16.0150] },
  { id: 'dn-aq-le-van-hien', name: 'Lê Văn Hiến', nameEn: 'Le Van Hien', at: [108.2475, 16.0200] },
  { id: 'dn-aq-thanh-khe', name: 'Thanh Khê', nameEn: 'Thanh Khe', at: [108.1880, 16.0700] },
];

const WATER_LEVEL: Station[] = [
  ...[
    ['dbp-ha-huy-tap', 'Điện Biên Phủ – Hà Huy Tập', 'Dien Bien Phu – Ha Huy Tap', [108.1905, 16.0655]],
    ['hoang-dieu', 'Hoàng Diệu', 'Hoang Dieu Street', [108.2165, 16.0585]],
    ['nguyen-tri-phuong', 'Nguyễn Tri Phương', 'Nguyen Tri Phuong Street', [108.2040, 16.0530]],
    ['hoa-xuan', 'Hòa Xuân', 'Hoa Xuan', [108.2240, 16.0120]],
    ['hoa-khanh', 'Hòa Khánh', 'Hoa Khanh', [108.1500, 16.0720]],
    ['ton-duc-thang', 'Tôn Đức Thắng', 'Ton Duc Thang Street', [108.1600, 16.0660]],
    ['ong-ich-khiem', 'Ông Ích Khiêm', 'Ong Ich Khiem Street', [108.2120, 16.0640]],
    ['le-dinh-ly', 'Lê Đình Lý', 'Le Dinh Ly Street', [108.2080, 16.0590]],
    ['phan-dang-luu', 'Phan Đăng Lưu', 'Phan Dang Luu Street', [108.2150, 16.0440]],
    ['cach-mang-thang-tam', 'Cách Mạng Tháng Tám', 'Cach Mang Thang Tam Street', [108.2050, 16.0290]],
    ['nguyen-huu-tho', 'Nguyễn Hữu Thọ', 'Nguyen Huu Tho Street', [108.2100, 16.0510]],
    ['trung-nu-vuong', 'Trưng Nữ Vương', 'Trung Nu Vuong Street', [108.2180, 16.0500]],
    ['ngu-hanh-son-le-van-hien', 'Lê Văn Hiến – Ngũ Hành Sơn', 'Le Van Hien – Ngu Hanh Son', [108.2520, 16.0080]],
    ['an-hai', 'An Hải', 'An Hai', [108.2380, 16.0650]],
    ['man-thai', 'Mân Thái', 'Man Thai', [108.2420, 16.0880]],
    ['hoa-minh', 'Hòa Minh', 'Hoa Minh', [108.1680, 16.0680]],
    ['khue-trung', 'Khuê Trung', 'Khue Trung', [108.2080, 16.0330]],
    ['hoa-tho-dong', 'Hòa Thọ Đông', 'Hoa Tho Dong', [108.1950, 16.0220]],
  ].map(([id, name, nameEn, at]) => ({ id: `dn-wl-${id}`, name: `Điểm trũng ${name}`, nameEn: `${nameEn} low point`, at: at as Point, extra: { riverside: false, baseLevel: 0, alertLevel: 0.2, dangerLevel: 0.4 } })),
  ...[
    ['thuan-phuoc', 'Cửa sông – Thuận Phước', 'River mouth – Thuan Phuoc', [108.2196, 16.0900]],
    ['song-han-bac', 'Sông Hàn – Bạch Đằng bắc', 'Han River – north Bach Dang', [108.2230, 16.0805]],
    ['cau-song-han', 'Sông Hàn – Cầu Sông Hàn', 'Han River – Han River Bridge', [108.2240, 16.0735]],
    ['cau-rong', 'Sông Hàn – Cầu Rồng', 'Han River – Dragon Bridge', [108.2237, 16.0600]],
    ['cau-tran-thi-ly', 'Sông Hàn – Cầu Trần Thị Lý', 'Han River – Tran Thi Ly Bridge', [108.2278, 16.0490]],
    ['cau-tien-son', 'Sông Hàn – Cầu Tiên Sơn', 'Han River – Tien Son Bridge', [108.2310, 16.0395]],
    ['an-hai-bac', 'Sông Hàn – bờ đông An Hải', 'Han River – east bank An Hai', [108.2306, 16.0660]],
    ['nai-hien-dong', 'Sông Hàn – bờ đông Nại Hiên Đông', 'Han River – east bank Nai Hien Dong', [108.2296, 16.0835]],
    ['bac-my-an', 'Sông Hàn – bờ đông Bắc Mỹ An', 'Han River – east bank Bac My An', [108.2392, 16.0395]],
  ].map(([id, name, nameEn, at]) => ({ id: `dn-wl-river-${id}`, name: name as string, nameEn: nameEn as string, at: at as Point, extra: { riverside: true, baseLevel: 0.6, alertLevel: 1.5, dangerLevel: 2.5 } })),
];

const PARKING: Station[] = [
  ['cho-han', 'Bãi xe Chợ Hàn', 'Han Market car park', [108.2225, 16.0690], 120],
  ['cho-con', 'Bãi xe Chợ Cồn', 'Con Market car park', [108.2140, 16.0680], 150],
  ['vincom', 'Vincom Plaza', 'Vincom Plaza', [108.2320, 16.0710], 400],
  ['san-bay', 'Sân bay Đà Nẵng', 'Da Nang Airport', [108.2000, 16.0550], 800],
  ['cong-vien-apec', 'Công viên APEC', 'APEC Park', [108.2230, 16.0570], 200],
  ['my-khe', 'Bãi biển Mỹ Khê', 'My Khe Beach', [108.2445, 16.0620], 300],
  ['pham-van-dong-beach', 'Bãi biển Phạm Văn Đồng', 'Pham Van Dong Beach', [108.2440, 16.0735], 250],
  ['lotte', 'Lotte Mart', 'Lotte Mart', [108.2290, 16.0350], 500],
  ['big-c', 'Big C Đà Nẵng', 'Big C Da Nang', [108.2030, 16.0660], 400],
  ['benh-vien-da-nang', 'Bệnh viện Đà Nẵng', 'Da Nang Hospital', [108.2140, 16.0740], 180],
  ['ga-da-nang', 'Ga Đà Nẵng', 'Da Nang Railway Station', [108.2070, 16.0710], 150],
  ['ben-xe', 'Bến xe trung tâm', 'Central Bus Station', [108.1720, 16.0580], 300],
  ['asia-park', 'Asia Park', 'Asia Park', [108.2272, 16.0405], 600],
  ['ngu-hanh-son', 'Danh thắng Ngũ Hành Sơn', 'Marble Mountains', [108.2630, 16.0040], 250],
  ['cau-rong-dong', 'Đầu cầu Rồng phía đông', 'Dragon Bridge east end', [108.2330, 16.0625], 150],
  ['hoa-khanh', 'Chợ Hòa Khánh', 'Hoa Khanh Market', [108.1520, 16.0740], 120],
  ['dai-hoc-bach-khoa', 'Đại học Bách khoa', 'University of Science and Technology', [108.1490, 16.0760], 350],
  ['son-tra-night-market', 'Chợ đêm Sơn Trà', 'Son Tra Night Market', [108.2318, 16.0630], 100],
  ['helio', 'Helio Center', 'Helio Center', [108.2235, 16.0365], 200],
  ['cong-vien-bien-dong', 'Công viên Biển Đông', 'East Sea Park', [108.2440, 16.0690], 220],
].map(([id, name, nameEn, at, spots]) => ({ id: `dn-park-${id}`, name: name as string, nameEn: nameEn as string, at: at as Point, extra: { totalSpotNumber: spots } }));

/** Segments with a noise meter by them. */
const NOISY = ['cau-rong', 'cau-song-han', 'cau-tran-thi-ly', 'cau-tien-son', 'nguyen-van-linh-1', 'nguyen-van-linh-2', 'dien-bien-phu-1', 'dien-bien-phu-2', 'dien-bien-phu-3', 'le-duan-1', 'le-duan-2', 'bach-dang-1', 'bach-dang-2', 'bach-dang-3', 'tran-phu-2', 'hung-vuong-1', 'ngo-quyen-2', 'pham-van-dong-1', 'vo-van-kiet-1', 'vo-nguyen-giap-3', 'hai-thang-chin-1', 'ton-duc-thang-1', 'ton-duc-thang-2', 'truong-chinh-1'];
const NOISE_SPOTS: Station[] = [
  { id: 'dn-noise-san-bay', name: 'Sân bay Đà Nẵng', nameEn: 'Da Nang Airport', at: [108.2085, 16.0525] },
  { id: 'dn-noise-cho-dem-son-tra', name: 'Chợ đêm Sơn Trà', nameEn: 'Son Tra Night Market', at: [108.2318, 16.0628] },
  { id: 'dn-noise-cho-dem-helio', name: 'Chợ đêm Helio', nameEn: 'Helio Night Market', at: [108.2232, 16.0362] },
];

// ---- geometry helpers ----------------------------------------------------------------------
const METRES_PER_DEGREE = 111_320;
const distance = (a: Point, b: Point) => Math.hypot((b[0] - a[0]) * Math.cos((a[1] * Math.PI) / 180), b[1] - a[1]) * METRES_PER_DEGREE;
const round = (p: Point): Point => [Number(p[0].toFixed(5)), Number(p[1].toFixed(5))];

function lengthOf(path: Point[]): number {
  let total = 0;
  for (let i = 1; i < path.length; i++) total += distance(path[i - 1] as Point, path[i] as Point);
  return total;
}

/** The point at `fraction` of the way along `path`. */
function along(path: Point[], fraction: number): Point {
  let remaining = lengthOf(path) * fraction;
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1] as Point;
    const b = path[i] as Point;
    const step = distance(a, b);
    if (remaining <= step) {
      const f = step === 0 ? 0 : remaining / step;
      return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
    }
    remaining -= step;
  }
  return path.at(-1) as Point;
}

/** Metres from `p` to the nearest point of `path` (flat-earth, fine at city scale). */
function distanceToPath(p: Point, path: Point[]): number {
  const kx = Math.cos((p[1] * Math.PI) / 180) * METRES_PER_DEGREE;
  let best = Infinity;
  for (let i = 1; i < path.length; i++) {
    const [ax, ay] = path[i - 1] as Point;
    const [bx, by] = path[i] as Point;
    const dx = (bx - ax) * kx, dy = (by - ay) * METRES_PER_DEGREE;
    const px = (p[0] - ax) * kx, py = (p[1] - ay) * METRES_PER_DEGREE;
    const t = dx === 0 && dy === 0 ? 0 : Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
    best = Math.min(best, Math.hypot(px - t * dx, py - t * dy));
  }
  return best;
}

/** The part of `path` between two fractions, with the original vertices in between. */
function slice(path: Point[], from: number, to: number): Point[] {
  const total = lengthOf(path);
  const points: Point[] = [along(path, from)];
  let travelled = 0;
  for (let i = 1; i < path.length; i++) {
    travelled += distance(path[i - 1] as Point, path[i] as Point);
    const f = travelled / total;
    if (f > from && f < to) points.push(path[i] as Point);
  }
  points.push(along(path, to));
  return points.map(round);
}

// ---- build ---------------------------------------------------------------------------------
const zones = loadZones();
/**
 * The district a point stands in. The district polygons include most of the river (the Hải Châu
 * boundary runs along its mid-line) but not its mouth, which they count as the bay; a device outside
 * every mainland district is a drawing mistake.
 */
const zoneAt = (p: Point) => {
  const zone = zones.zoneAt(p[0], p[1]);
  return zone && zone.id !== 'hoang-sa' ? zone.id : undefined;
};
const zoneOf = (p: Point, what: string): string => {
  const zone = zoneAt(p);
  if (!zone) throw new Error(`${what} at ${p[0]}, ${p[1]} is outside the mainland districts: move it`);
  return zone;
};
/** A segment's zone: the district of its midpoint, or, for Cầu Thuận Phước over the river mouth, the nearest one. */
const segmentZone = (p: Point, what: string): string => {
  for (let radius = 0; radius <= 500; radius += 50) {
    const steps = radius === 0 ? 1 : 16;
    for (let k = 0; k < steps; k++) {
      const angle = (2 * Math.PI * k) / steps;
      const lon = p[0] + (radius * Math.cos(angle)) / (METRES_PER_DEGREE * Math.cos((p[1] * Math.PI) / 180));
      const lat = p[1] + (radius * Math.sin(angle)) / METRES_PER_DEGREE;
      const zone = zoneAt([lon, lat]);
      if (zone) return zone;
    }
  }
  throw new Error(`${what} at ${p[0]}, ${p[1]} is more than 500 m from any mainland district: move it`);
};

const CAPACITY_PER_LANE: Record<RoadKind, number> = { bridge: 1500, arterial: 1700, coastal: 1800, street: 1400 };
const segments = STREETS.flatMap((street) =>
  Array.from({ length: street.segments }, (_, i) => {
    const coordinates = slice(street.path, i / street.segments, (i + 1) / street.segments);
    const id = street.segments === 1 ? street.id : `${street.id}-${i + 1}`;
    const midpoint = along(coordinates, 0.5);
    return {
      type: 'Feature' as const,
      id,
      geometry: { type: 'LineString' as const, coordinates },
      properties: {
        id,
        name: street.segments === 1 ? street.name : `${street.name} (${i + 1}/${street.segments})`,
        nameEn: street.segments === 1 ? street.nameEn : `${street.nameEn} (${i + 1}/${street.segments})`,
        street: street.name,
        kind: street.kind,
        lanes: street.lanes,
        speedLimit: street.speedLimit,
        capacity: street.lanes * CAPACITY_PER_LANE[street.kind],
        zone: segmentZone(midpoint, `segment ${id}`),
        lengthMetres: Math.round(lengthOf(coordinates)),
      },
    };
  }),
);

interface PlacementProps {
  id: string;
  kind: DeviceKind;
  name: string;
  nameEn: string;
  zone: string;
  [key: string]: unknown;
}
const placements: { type: 'Feature'; geometry: { type: 'Point'; coordinates: Point }; properties: PlacementProps }[] = [];
const place = (kind: DeviceKind, id: string, name: string, nameEn: string, at: Point, extra: Record<string, unknown> = {}) =>
  placements.push({ type: 'Feature', geometry: { type: 'Point', coordinates: round(at) }, properties: { id, kind, name, nameEn, zone: zoneOf(at, id), ...extra } });

for (const segment of segments) {
  const { id, name, nameEn, kind } = segment.properties;
  const line = segment.geometry.coordinates;
  // A bridge's camera stands mid-span, or as near it as a district reaches (the river mouth under Cầu Thuận Phước is bay).
  const midSpan = [0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65, 0.3, 0.7, 0.25, 0.75].find((fraction) => zoneAt(along(line, fraction))) ?? 0.5;
  const sensors = kind === 'arterial' || kind === 'coastal' ? [0.3, 0.7] : kind === 'bridge' ? [midSpan] : [0.5];
  sensors.forEach((fraction, n) =>
    place('traffic', `dn-traffic-${id}-${n + 1}`, `Cảm biến lưu lượng ${name}`, `Traffic sensor ${nameEn}`, along(line, fraction), {
      segment: id,
      ...(kind === 'bridge' ? { camera: true } : {}),
    }),
  );
}
/** The road segment a roadside station stands by: the nearest one within `within` metres. */
const nearestSegment = (at: Point, within: number): string | undefined => {
  let best: { id: string; metres: number } | undefined;
  for (const segment of segments) {
    const metres = distanceToPath(at, segment.geometry.coordinates);
    if (metres <= within && (!best || metres < best.metres)) best = { id: segment.properties.id, metres };
  }
  return best?.id;
};
const roadside = (at: Point, within: number): Record<string, unknown> => {
  const id = nearestSegment(at, within);
  return id ? { nearSegment: id } : {};
};

for (const station of AIR) place('air_quality', station.id, `Trạm quan trắc không khí ${station.name}`, `Air-quality station ${station.nameEn}`, station.at, { ...station.extra, ...roadside(station.at, 300) });
for (const station of WATER_LEVEL) place('water_level', station.id, station.name, station.nameEn, station.at, station.extra);
for (const station of PARKING) place('parking', station.id, station.name, station.nameEn, station.at, station.extra);

// Noise meters on lamp posts by the busiest segments (a bridge's at its west abutment, on land) ...
for (const id of NOISY) {
  const segment = segments.find((candidate) => candidate.properties.id === id);
  if (!segment) throw new Error(`no segment ${id}`);
  const [lon, lat] = along(segment.geometry.coordinates, segment.properties.kind === 'bridge' ? 0.03 : 0.45);
  place('noise', `dn-noise-${id}`, `Máy đo tiếng ồn ${segment.properties.name}`, `Noise meter ${segment.properties.nameEn}`, [lon + 0.0002, lat + 0.0002], { nearSegment: id });
}
// ... and at the airport and the night markets.
for (const spot of NOISE_SPOTS) {
  const nearSegment = nearestSegment(spot.at, 400);
  if (!nearSegment) throw new Error(`noise meter ${spot.id} is more than 400 m from any road segment`);
  place('noise', spot.id, `Máy đo tiếng ồn ${spot.name}`, `Noise meter ${spot.nameEn}`, spot.at, { nearSegment });
}

// Streetlights every ~600 m along the streets (the bridges have their own decorative lighting).
for (const segment of segments.filter((candidate) => candidate.properties.kind !== 'bridge')) {
  const count = Math.max(1, Math.round(segment.properties.lengthMetres / 600));
  for (let n = 0; n < count; n++) {
    const at = along(segment.geometry.coordinates, (n + 0.5) / count);
    place('streetlight', `dn-light-${segment.properties.id}-${n + 1}`, `Đèn đường ${segment.properties.name} #${n + 1}`, `Streetlight ${segment.properties.nameEn} #${n + 1}`, at, { segment: segment.properties.id });
  }
}

const out = (name: string, features: unknown[]) =>
  writeFileSync(fileURLToPath(new URL(name, import.meta.url)), `${JSON.stringify({ type: 'FeatureCollection', features }, null, 1)}\n`);
out('roads.geojson', segments);
out('water.geojson', [
  ...WATER.map((w) => ({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [w.polygon] }, properties: { name: w.name, nameEn: w.nameEn, kind: w.kind } })),
  ...COAST.map((c) => ({ type: 'Feature', geometry: { type: 'LineString', coordinates: c.line }, properties: { name: c.name, nameEn: c.nameEn, kind: c.kind } })),
]);
out('placements.geojson', placements);
const counts = placements.reduce<Record<string, number>>((acc, p) => ((acc[p.properties.kind] = (acc[p.properties.kind] ?? 0) + 1), acc), {});
process.stdout.write(`${segments.length} road segments, ${placements.length} devices: ${JSON.stringify(counts)}\n`);
